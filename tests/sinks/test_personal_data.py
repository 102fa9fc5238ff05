from sinks.personal_data import PREFIX, PersonalData


def test_personal_data_is_a_keyed_hash_stable_across_formatting() -> None:
    keyed = PersonalData(b"k1")
    hashed = keyed.protect("phone", "+86 138-0000-0001")
    assert hashed.startswith(PREFIX) and "13800000001" not in hashed
    assert hashed == keyed.protect("phone", "+86 (138) 0000 0001")
    assert hashed != PersonalData(b"k2").protect("phone", "+86 138-0000-0001")  # the key matters
    assert keyed.protect("email", "Buyer@Tier1.test") == keyed.protect("email", "buyer@tier1.test")
    assert keyed.protect("email", None) == ""


def test_clear_text_only_when_allowed() -> None:
    assert PersonalData(None).protect("email", " Buyer@Tier1.test ") == "buyer@tier1.test"
