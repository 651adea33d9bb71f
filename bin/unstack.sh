#!/usr/bin/env bash
# Stop what bin/stack.sh started.
#
#   bin/unstack.sh            # delete instances, stop the daemons, keep state/
#   bin/unstack.sh --purge    # ... and remove the state directory
#
# Instances are deleted through the API first (best effort), so that the
# taskmanager stops their guest agents and engines.  The daemons are then
# stopped by their pid files: SIGTERM, and SIGKILL after TROVE_STOP_TIMEOUT
# seconds (default 20), then the Swift all-in-one of TROVE_OBJECT_STORE=swift
# by its own pid files.  RabbitMQ and the system MariaDB are left alone.
set -euo pipefail

# shellcheck source=bin/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

TENANT=${TROVE_TENANT:-demo}
API_URL=http://127.0.0.1:8779
RUN_DIR=$TROVE_STATE_DIR/run
DAEMONS=(trove-api trove-taskmanager trove-conductor)
PURGE=0

os_cli() {
    "$TROVE_VENV/bin/openstack" --os-auth-type none --os-endpoint "$API_URL/v1.0/$1" "${@:2}"
}

# "<id> <tenant>" per instance: of all projects when the API allows it,
# else of $TENANT.
list_instances() {
    local out
    if out=$(os_cli "$TENANT" database instance list --all-projects -f json 2>/dev/null); then
        "$TROVE_VENV/bin/python" -c '
import json, sys
for row in json.load(sys.stdin):
    print(row["ID"], row.get("Tenant ID") or sys.argv[1])' "$TENANT" <<<"$out"
    elif out=$(os_cli "$TENANT" database instance list -f json); then
        "$TROVE_VENV/bin/python" -c '
import json, sys
for row in json.load(sys.stdin):
    print(row["ID"], sys.argv[1])' "$TENANT" <<<"$out"
    else
        return 1
    fi
}

delete_instances() {
    local list id tenant waited=0 timeout=${TROVE_DELETE_TIMEOUT:-120}
    if [[ ! -x "$TROVE_VENV/bin/openstack" ]] || ! pid_alive "$RUN_DIR/trove-api.pid" trove-api >/dev/null \
            || ! port_open 127.0.0.1 8779; then
        say "trove-api is not running: no instances deleted through the API"
        return 0
    fi
    if ! list=$(list_instances); then
        warn "could not list instances; skipping deletion"
        return 0
    fi
    if [[ -z "$list" ]]; then
        say "No instances to delete"
        return 0
    fi
    while read -r id tenant; do
        say "Deleting instance $id (project $tenant)"
        os_cli "$tenant" database instance delete "$id" || warn "delete of $id failed"
    done <<<"$list"
    while list=$(list_instances) && [[ -n "$list" ]]; do
        if (( waited >= timeout )); then
            warn "instances still present after ${timeout}s:"
            printf '    %s\n' "$list" >&2
            return 0
        fi
        printf '    waiting for %d instance(s) to go away ... %ds\n' "$(wc -l <<<"$list")" "$waited"
        sleep 3
        waited=$((waited + 3))
    done
    say "All instances deleted"
}

# $1: the pid file's name in $RUN_DIR (without .pid); $2: what the
# process's command line holds (default $1).
stop_daemon() {
    local name=$1 pidfile=$RUN_DIR/$1.pid pid waited=0 timeout=${TROVE_STOP_TIMEOUT:-20}
    if ! pid=$(pid_alive "$pidfile" "${2:-$name}"); then
        rm -f "$pidfile"
        say "$name is not running"
        return 0
    fi
    say "Stopping $name (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    while [[ -d "/proc/$pid" ]]; do
        if (( waited >= timeout )); then
            warn "$name did not stop within ${timeout}s; sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
            sleep 1
            break
        fi
        sleep 1
        waited=$((waited + 1))
    done
    rm -f "$pidfile"
}

# trove-taskmanager-2 ... that bin/stack.sh started (TROVE_TASKMANAGERS).
extra_taskmanagers() {
    local pidfile
    for pidfile in "$RUN_DIR"/trove-taskmanager-*.pid; do
        [[ -f "$pidfile" ]] && basename "$pidfile" .pid
    done
    return 0
}

# Spare servers (``[local] spare_servers``) belong to no instance: the
# driver powers them off and removes their volumes.  Runs after the
# taskmanager stopped, so no refill starts new ones.
delete_spares() {
    local args=(--config-file "$TROVE_STATE_DIR/trove.conf")
    [[ -x "$TROVE_VENV/bin/trove-manage" && -f "${args[1]}" ]] || return 0
    [[ -d "$TROVE_STATE_DIR/trove.conf.d" ]] && args+=(--config-dir "$TROVE_STATE_DIR/trove.conf.d")
    "$TROVE_VENV/bin/trove-manage" "${args[@]}" spares_delete || warn "could not delete spare servers"
}

# Processes whose command line points into the state directory: guest agents
# and engines of instances the API could not delete.  Only ever processes
# started from this state directory match.
state_processes() {
    local dir pid
    for dir in /proc/[0-9]*; do
        pid=${dir#/proc/}
        [[ "$pid" == "$$" ]] && continue
        # A process may end between the glob and the read: ignore it then.
        { tr '\0' ' ' <"$dir/cmdline"; } 2>/dev/null | grep -qF -- "$TROVE_STATE_DIR/" \
            && echo "$pid"
    done
    return 0
}

stop_strays() {
    local pids
    pids=$(state_processes)
    [[ -n "$pids" ]] || return 0
    if (( PURGE == 0 )); then
        warn "processes still use $TROVE_STATE_DIR (pids: $(echo "$pids" | tr '\n' ' '))"
        warn "they are left alone; 'bin/unstack.sh --purge' stops them"
        return 0
    fi
    say "Stopping leftover guest processes: $(echo "$pids" | tr '\n' ' ')"
    # shellcheck disable=SC2086  # one pid per word
    kill -TERM $pids 2>/dev/null || true
    sleep 5
    pids=$(state_processes)
    # shellcheck disable=SC2086
    [[ -z "$pids" ]] || kill -KILL $pids 2>/dev/null || true
}

# The Swift all-in-one bin/stack.sh started (TROVE_OBJECT_STORE=swift);
# its data stays in state/swift unless --purge.
stop_swift() {
    compgen -G "$TROVE_STATE_DIR/swift/run/*.pid" >/dev/null || return 0
    say "Stopping the Swift all-in-one"
    "$TROVE_VENV/bin/python" "$TROVE_REPO/bin/lib/swift_aio.py" stop "$TROVE_STATE_DIR/swift" \
        || warn "could not stop Swift (pid files in $TROVE_STATE_DIR/swift/run)"
}

main() {
    local name
    for arg in "$@"; do
        case "$arg" in
            --purge) PURGE=1 ;;
            -h|--help) sed -n '2,11p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; return 0 ;;
            *) die "unknown argument: $arg (see --help)" ;;
        esac
    done
    if [[ ! -d "$TROVE_STATE_DIR" ]]; then
        say "No state directory $TROVE_STATE_DIR: nothing to stop"
        return 0
    fi
    delete_instances
    local extra=()
    mapfile -t extra < <(extra_taskmanagers)
    for name in "${DAEMONS[@]}" "${extra[@]}"; do
        stop_daemon "$name"
    done
    # The coordination backend of several taskmanagers (TROVE_TASKMANAGERS).
    if [[ -f "$RUN_DIR/coordination-redis.pid" ]]; then
        stop_daemon coordination-redis redis-server
    fi
    delete_spares
    stop_swift
    stop_strays
    if (( PURGE )); then
        case "$(cd "$TROVE_STATE_DIR" && pwd -P)" in
            /|"$HOME"|"$(cd "$TROVE_REPO" && pwd -P)") die "refusing to purge $TROVE_STATE_DIR" ;;
        esac
        say "Removing $TROVE_STATE_DIR"
        rm -rf -- "$TROVE_STATE_DIR"
    else
        say "State kept in $TROVE_STATE_DIR (bin/unstack.sh --purge removes it)"
    fi
}

main "$@"
