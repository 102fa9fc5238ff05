from datetime import datetime, timezone

from sinks.tables import ALL_TABLES, DEAD_LETTERS, LEADS_ROUTED


def test_rows_follow_column_order_and_fill_absent_values_with_zeros() -> None:
    when = datetime(2026, 11, 27, 1, 2, 3, 456789, tzinfo=timezone.utc)
    row = LEADS_ROUTED.row({"routing_id": "r1", "routed_at": when, "reasons": None})
    columns = LEADS_ROUTED.column_names
    assert row[columns.index("routing_id")] == "r1"
    assert row[columns.index("reasons")] == []
    assert row[columns.index("decision_latency_ms")] == 0.0
    assert row[columns.index("routed_at")] == when.replace(microsecond=0)
    assert len(row) == len(columns)


def test_every_table_is_deduplicated_on_its_record_id() -> None:
    for table in ALL_TABLES:
        ddl = table.ddl("db")
        assert "ReplacingMergeTree" in ddl and table.id_column in ddl.split("ORDER BY")[1], table.name
        assert table.id_column in table.column_names
    assert "raw_base64" in DEAD_LETTERS.column_names
