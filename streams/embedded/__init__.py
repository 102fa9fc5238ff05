"""The embedded demo: a synthetic sales world, replayed in process into embedded ClickHouse."""
