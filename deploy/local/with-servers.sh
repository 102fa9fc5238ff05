#!/usr/bin/env bash
#
# Runs a command with Kafka and ClickHouse available, e.g.
#
#   deploy/local/with-servers.sh pytest -q
#
# For each server:
#   - if its variable (LEADFLOW_KAFKA_BOOTSTRAP / LEADFLOW_CLICKHOUSE_URL) is
#     already set and non-empty, that existing server is used as is;
#   - else if our local server is already running (e.g. from up.sh), it is
#     used and left running;
#   - else our local server is started now, the variable is exported, and
#     the server is stopped again when this script exits -- normally, on
#     error, or on Ctrl-C / SIGTERM.
# The exit status is the command's.
#
# Note: the command runs in the foreground, so a SIGTERM sent to this script
# alone takes effect (and the servers are stopped) once the command exits.
# Ctrl-C in a terminal reaches the command directly.
set -euo pipefail

LOG_NAME="with-servers"
# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

if (( $# == 0 )); then
    echo "usage: $0 COMMAND [ARGS...]" >&2
    exit 2
fi

STARTED=()      # servers this script started, hence must stop

# shellcheck disable=SC2317  # only reached through the traps below
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if (( ${#STARTED[@]} > 0 )); then
        wait_for_service_jobs
        local name
        for name in "${STARTED[@]}"; do
            "$DEPLOY_DIR/$name.sh" stop || log "could not stop $name"
        done
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# decide NAME VARIABLE VALUE -- use an existing server, or plan to start ours.
to_start=()
decide() {
    local name="$1" var="$2" value="$3"
    if [[ -n "${!var:-}" ]]; then
        log "$name: using $var=${!var} (nothing started)"
    elif "$DEPLOY_DIR/$name.sh" status >/dev/null; then
        log "$name: ours is already running; using it (it stays running)"
        export "$var=$value"
    else
        to_start+=("$name")
        export "$var=$value"
    fi
}
decide kafka LEADFLOW_KAFKA_BOOTSTRAP "$KAFKA_BOOTSTRAP"
decide clickhouse LEADFLOW_CLICKHOUSE_URL "$CLICKHOUSE_URL"

if (( ${#to_start[@]} > 0 )); then
    # Recorded before starting, so a failed or interrupted start is undone.
    STARTED=("${to_start[@]}")
    start_services "${to_start[@]}" || die "could not start: ${to_start[*]}"
fi

log "running: $*"
status=0
"$@" || status=$?
log "command exited with status $status"
exit "$status"
