"""ClickHouse: tables, migrations, backends (server and embedded) and the batching writer."""
