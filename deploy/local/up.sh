#!/usr/bin/env bash
#
# Starts the local Kafka and ClickHouse (concurrently) and leaves them
# running; each start is a no-op for a server that is already up.
# On success prints, on stdout, the environment the application needs:
#
#   eval "$(deploy/local/up.sh)"
#
# Progress goes to stderr.  Stop everything with deploy/local/down.sh.
set -euo pipefail

LOG_NAME="up"
# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

if ! start_services kafka clickhouse; then
    die "not all servers started (logs under $CACHE); deploy/local/down.sh stops the rest"
fi

printf 'export LEADFLOW_KAFKA_BOOTSTRAP=%s\n' "$KAFKA_BOOTSTRAP"
printf 'export LEADFLOW_CLICKHOUSE_URL=%s\n' "$CLICKHOUSE_URL"
