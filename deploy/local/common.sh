# shellcheck shell=bash
# shellcheck disable=SC2034  # the variables below are used by the sourcing scripts
#
# Shared settings and helpers for the local development servers
# (Kafka in KRaft mode, ClickHouse).  This file is *sourced* by the other
# scripts in deploy/local/; it is not meant to be executed on its own.
#
# Everything the servers write (jars, data, logs, pid files) lives under
# $CACHE, which defaults to <repo>/.cache and can be moved with LEADFLOW_CACHE.

# --- locations -------------------------------------------------------------

DEPLOY_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$DEPLOY_DIR/../.." && pwd)"
CACHE="${LEADFLOW_CACHE:-$REPO/.cache}"
RUN_DIR="$CACHE/run"            # pid files: $RUN_DIR/<name>.pid

# --- versions and ports ------------------------------------------------------

KAFKA_VERSION="${KAFKA_VERSION:-4.4.0}"
SLF4J_VERSION="1.7.36"          # matches the slf4j-api that Kafka pulls in

LOCAL_HOST="127.0.0.1"          # every server listens on loopback only
KAFKA_PORT=19092                # PLAINTEXT listener (clients)
KAFKA_CONTROLLER_PORT=19093     # KRaft controller listener
# A second instance (e.g. a test's own, to stop and start) sets these and LEADFLOW_CACHE.
CLICKHOUSE_TCP_PORT="${LEADFLOW_CLICKHOUSE_TCP_PORT:-19000}"                  # native protocol
CLICKHOUSE_HTTP_PORT="${LEADFLOW_CLICKHOUSE_HTTP_PORT:-18123}"                # HTTP interface (/ping)
CLICKHOUSE_INTERSERVER_PORT="${LEADFLOW_CLICKHOUSE_INTERSERVER_PORT:-19009}"
CLICKHOUSE_DATABASE="leadflow"  # created by clickhouse.sh start

# What clients should use to reach the servers above.
KAFKA_BOOTSTRAP="$LOCAL_HOST:$KAFKA_PORT"
CLICKHOUSE_URL="clickhouse://default:@$LOCAL_HOST:$CLICKHOUSE_TCP_PORT/$CLICKHOUSE_DATABASE"

# --- logging -----------------------------------------------------------------

# Microseconds since the epoch, from bash's own clock (no subprocess).
now_us() {
    local t="${EPOCHREALTIME/[.,]/}"
    printf '%s\n' "$t"
}

# The reference point for elapsed times.  Exported so that scripts started by
# other scripts (up.sh -> kafka.sh) report times relative to the outermost one.
export LEADFLOW_LOG_T0="${LEADFLOW_LOG_T0:-$(now_us)}"

# Seconds (with one decimal) between two now_us values: seconds_between T0 [T1]
seconds_between() {
    local start="$1" end="${2:-$(now_us)}"
    local tenths=$(( (end - start) / 100000 ))
    printf '%d.%d\n' $(( tenths / 10 )) $(( tenths % 10 ))
}

# Each script sets LOG_NAME (e.g. "kafka") before calling log.
LOG_NAME="${LOG_NAME:-local}"

# log MESSAGE... -- one line on stderr: "[leadflow:kafka +3.2s] message"
log() {
    printf '[leadflow:%s +%ss] %s\n' "$LOG_NAME" "$(seconds_between "$LEADFLOW_LOG_T0")" "$*" >&2
}

die() {
    log "ERROR: $*"
    exit 1
}

# --- waiting -----------------------------------------------------------------

# wait_until DEADLINE_SECONDS DESCRIPTION COMMAND [ARGS...]
#
# Runs COMMAND every 0.2 s until it succeeds (returns 0) or DEADLINE_SECONDS
# have passed (returns 1).  If COMMAND exits with status 125 it means "this
# will never succeed" (e.g. the server process died) and we give up at once.
wait_until() {
    local deadline_s="$1" description="$2"
    shift 2
    local start rc
    start="$(now_us)"
    local limit=$(( start + deadline_s * 1000000 ))
    while true; do
        rc=0
        "$@" >/dev/null 2>&1 || rc=$?
        if (( rc == 0 )); then
            return 0
        fi
        if (( rc == 125 )); then
            log "gave up waiting for $description"
            return 1
        fi
        if (( $(now_us) >= limit )); then
            log "timed out after ${deadline_s}s waiting for $description"
            return 1
        fi
        sleep 0.2
    done
}

# port_open PORT -- true when something accepts TCP connections on loopback.
port_open() {
    (exec 3<>"/dev/tcp/$LOCAL_HOST/$1") 2>/dev/null
}

# ensure_ports_free NAME PORT... -- refuse to start when a port is taken by a
# process that is not ours (e.g. a stray server from an earlier experiment).
ensure_ports_free() {
    local name="$1" port
    shift
    for port in "$@"; do
        if port_open "$port"; then
            die "port $port is already in use by another process; cannot start $name" \
                "(see: ss -ltnp 'sport = :$port')"
        fi
    done
}

# --- pid files -----------------------------------------------------------------
#
# A server NAME started by these scripts has its pid in $RUN_DIR/NAME.pid.
# Besides the pid we always check /proc/PID/cmdline for a MARKER string that
# is unique to our server (e.g. the path of our config file), so a reused pid
# or a foreign process is never mistaken for ours, and never signalled.

pid_file() {
    printf '%s\n' "$RUN_DIR/$1.pid"
}

# pid_matches PID MARKER -- true when PID is alive and its command line
# contains MARKER.  (A zombie has an empty cmdline, so it never matches.)
pid_matches() {
    local pid="$1" marker="$2" cmdline
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    [[ -r "/proc/$pid/cmdline" ]] || return 1
    cmdline="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" || return 1
    [[ "$cmdline" == *"$marker"* ]]
}

# running_pid NAME MARKER -- prints the pid and returns 0 when our server is
# running; otherwise removes a stale pid file (if any) and returns 1.
running_pid() {
    local name="$1" marker="$2" file pid
    file="$(pid_file "$name")"
    [[ -f "$file" ]] || return 1
    pid="$(<"$file")"
    if pid_matches "$pid" "$marker"; then
        printf '%s\n' "$pid"
        return 0
    fi
    log "removing stale pid file $file (pid ${pid:-?} is not our $name)"
    rm -f "$file"
    return 1
}

# start_background NAME LOGFILE COMMAND [ARGS...]
#
# Starts COMMAND detached from this shell (own session, so a Ctrl-C in the
# terminal does not hit the server directly; the scripts stop it in order),
# with stdin from /dev/null and stdout+stderr appended to LOGFILE.  Records
# the pid in the pid file and prints it.
start_background() {
    local name="$1" logfile="$2"
    shift 2
    mkdir -p "$RUN_DIR" "$(dirname "$logfile")"
    # With job control on (only if this file were sourced into an interactive
    # shell) setsid would fork and $! would not be the server's pid.
    [[ $- != *m* ]] || die "start_background needs job control off (run the scripts, do not source them)"
    # Without job control a background child is not a process-group leader,
    # so setsid(1) calls setsid() in place and exec()s: $! is the server's pid.
    setsid "$@" </dev/null >>"$logfile" 2>&1 &
    local pid=$!
    printf '%s\n' "$pid" >"$(pid_file "$name")"
    printf '%s\n' "$pid"
}

# stop_server NAME MARKER [DEADLINE_SECONDS]
#
# SIGTERM, wait up to DEADLINE_SECONDS (default 20) for the process to exit,
# then SIGKILL.  Does nothing (successfully) when the server is not running.
stop_server() {
    local name="$1" marker="$2" deadline_s="${3:-20}" pid start
    if ! pid="$(running_pid "$name" "$marker")"; then
        log "$name is not running"
        return 0
    fi
    start="$(now_us)"
    log "stopping $name (pid $pid, SIGTERM)"
    kill -TERM "$pid" 2>/dev/null || true
    if ! wait_until "$deadline_s" "$name (pid $pid) to exit" \
            _pid_gone "$pid" "$marker"; then
        log "$name did not exit in ${deadline_s}s; sending SIGKILL"
        if pid_matches "$pid" "$marker"; then
            kill -KILL "$pid" 2>/dev/null || true
        fi
        wait_until 5 "$name (pid $pid) to die" _pid_gone "$pid" "$marker" || true
    fi
    rm -f "$(pid_file "$name")"
    log "$name stopped in $(seconds_between "$start")s"
}

_pid_gone() {
    ! pid_matches "$1" "$2"
}

# print_status NAME MARKER -- "NAME: running (pid N)" / "NAME: stopped";
# exit status 0 when running, 3 when stopped (like LSB init scripts).
print_status() {
    local name="$1" marker="$2" pid
    if pid="$(running_pid "$name" "$marker")"; then
        printf '%s: running (pid %s)\n' "$name" "$pid"
        return 0
    fi
    printf '%s: stopped\n' "$name"
    return 3
}

# --- starting several servers ------------------------------------------------

# Background jobs of start_services, so that an interrupted caller can wait
# for them before stopping the servers (a half-finished "start" could
# otherwise launch a server after the "stop" already ran).
SERVICE_JOBS=()

# start_services NAME... -- runs deploy/local/NAME.sh start for all NAMEs
# concurrently, logs how long each one took, fails if any of them failed.
start_services() {
    local name pid rc=0
    SERVICE_JOBS=()
    for name in "$@"; do
        _timed_start "$name" &
        SERVICE_JOBS+=("$!")
    done
    for pid in "${SERVICE_JOBS[@]}"; do
        wait "$pid" || rc=1
    done
    return "$rc"
}

_timed_start() {
    local name="$1" start
    start="$(now_us)"
    if "$DEPLOY_DIR/$name.sh" start; then
        log "$name started in $(seconds_between "$start")s"
    else
        log "$name FAILED to start (after $(seconds_between "$start")s)"
        return 1
    fi
}

# wait_for_service_jobs -- waits for start_services jobs still running.
wait_for_service_jobs() {
    local pid
    for pid in "${SERVICE_JOBS[@]}"; do
        if kill -0 "$pid" 2>/dev/null; then
            log "waiting for a start in progress (job $pid) to finish"
        fi
        wait "$pid" 2>/dev/null || true
    done
}
