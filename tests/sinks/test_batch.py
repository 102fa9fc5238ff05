from sinks.batch import Batch


def test_a_batch_is_due_when_full() -> None:
    batch = Batch(max_rows=3, max_seconds=10)
    for i in range(2):
        batch.add("t", (i,), now=0.0)
    assert not batch.due(now=1.0) and batch.room == 1
    batch.add("u", (9,), now=1.0)
    assert batch.due(now=1.0) and batch.room == 0
    assert batch.rows == {"t": [(0,), (1,)], "u": [(9,)]}


def test_a_batch_is_due_when_its_oldest_row_is_old_enough() -> None:
    batch = Batch(max_rows=100, max_seconds=1.0)
    assert not batch.due(now=50.0)  # an empty batch is never due
    batch.add("t", (1,), now=10.0)
    batch.add("t", (2,), now=10.9)
    assert not batch.due(now=10.99)
    assert batch.due(now=11.0)


def test_clear_starts_a_fresh_batch() -> None:
    batch = Batch(max_rows=2, max_seconds=1.0)
    batch.add("t", (1,), now=0.0)
    batch.clear()
    assert (batch.size, batch.rows, batch.due(now=100.0)) == (0, {}, False)
    batch.add("t", (2,), now=100.0)
    assert not batch.due(now=100.5)
