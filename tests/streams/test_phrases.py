import time
from pathlib import Path

from config.policy_files import load_policy
from models.intent_policy import Lexicon
from streams.phrases import PhraseMatcher

LEXICON = load_policy(Path(__file__).resolve().parents[2] / "config" / "lexicon.yaml", Lexicon)
MATCHER = PhraseMatcher.from_lexicon(LEXICON)


def test_chinese_phrases_match_anywhere_in_the_text() -> None:
    counts = MATCHER.count("我们想要一个报价，预算已经批了，价格合适的话本季度签合同")
    assert counts == {"price": 2, "budget": 1, "timeline": 1, "contract": 1}


def test_english_phrases_match_whole_words_in_any_case() -> None:
    assert MATCHER.count("Send me a QUOTE. What's the Price?") == {"price": 2}
    assert MATCHER.count("a priceless contractor, quoted in a pilotless trial-run") == {"trial": 1}
    assert MATCHER.count("tier-10 and tier-1 and Tier 1") == {"industry-automotive": 2}


def test_latin_words_inside_chinese_text_still_count() -> None:
    # `\b` would see no boundary between "OEM" and a Chinese character.
    counts = MATCHER.count("我们是OEM客户，也在和Voltix谈")
    assert counts == {"industry-automotive": 1, "competitor-voltix": 1}


def test_the_longest_phrase_wins_and_spaces_match_any_whitespace() -> None:
    assert MATCHER.count("a free   trial\nnext\tmonth") == {"trial": 1, "timeline": 1}
    assert MATCHER.count("生产线和产线") == {"industry-manufacturing": 2}


def test_empty_text_and_an_empty_lexicon_count_nothing() -> None:
    assert MATCHER.count("") == {}
    assert PhraseMatcher({}).count("price") == {}


def test_a_100_kb_transcript_is_counted_exactly_and_quickly() -> None:
    block = "客户说我们需要报价，还有 the budget is approved for next month. " + "普通的对话内容 " * 40
    text = block * (100_000 // len(block.encode("utf-8")) + 1)
    blocks = text.count("客户说")
    assert len(text.encode("utf-8")) >= 100_000
    MATCHER.count(text)  # warm-up
    started = time.perf_counter()
    counts = MATCHER.count(text)
    elapsed = time.perf_counter() - started
    assert counts == {"price": blocks, "budget": blocks, "timeline": blocks}
    assert elapsed < 0.05  # measured about 3 ms; generous for slow CI machines


def test_whole_word_rule_checks_the_characters_around_each_hit() -> None:
    assert MATCHER.count("price") == {"price": 1}  # at both ends of the text
    assert MATCHER.count("xprice price1 _price_ price-list 价格price。") == {"price": 4}
    assert MATCHER.count("poem pocket apocalypse POC") == {"trial": 1}  # "oem", "poc" inside words
    assert MATCHER.count("医院OEM医院") == {"industry-medical": 2, "industry-automotive": 1}


def test_overlapping_phrases_count_once_leftmost_then_longest() -> None:
    assert MATCHER.count("free trial") == {"trial": 1}  # not also "trial"
    assert MATCHER.count("prices pricing") == {"price": 2}
    assert MATCHER.count("tier 1tier 1") == {}  # both fail the word rule
    assert MATCHER.count("生产线") == {"industry-manufacturing": 1}  # not also "产线"
    assert MATCHER.count("free\u3000trial and free \t trial, free\xa0 trial") == {"trial": 3}


def test_non_ascii_cased_phrases_are_lower_cased_too() -> None:
    assert PhraseMatcher({"x": ["Größe"]}).count("GRÖSSE größe GRÖßE") == {"x": 2}
