#!/usr/bin/env bash
#
# Stops the local Kafka and ClickHouse started by these scripts.  Servers
# that are not running are skipped; this never fails because of them.
set -euo pipefail

LOG_NAME="down"
# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# Both at once: each stop waits for its own server's shutdown.
"$DEPLOY_DIR/kafka.sh" stop & kafka_job=$!
"$DEPLOY_DIR/clickhouse.sh" stop & clickhouse_job=$!
rc=0
wait "$kafka_job" || rc=1
wait "$clickhouse_job" || rc=1
exit "$rc"
