# shellcheck shell=bash
# The inside of tests/fresh/run-in-debootstrap: runs as PID 1 of new network,
# PID, mount, UTS and IPC namespaces (unshare), still seeing the host's file
# system.  Mounts what a booted Debian has (/proc, /sys, /dev, /run) into the
# root, brings up loopback, relays 127.0.0.1:PORT to the host-side proxy,
# then runs the README's commands chrooted, each timed, and writes one
# PASS/FAIL line per command to WORK/results.  Everything it mounts or
# starts ends with the namespaces.
#
#   inner.sh ROOT CACHE WORK PORT TESTS
set -uo pipefail

ROOT=$1 CACHE=$2 WORK=$3 PORT=$4 TESTS=$5
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
RESULTS=$WORK/results

setup_root() {
    ip link set lo up
    hostname trove-fresh
    mount -t proc proc "$ROOT/proc"
    mount -t sysfs sysfs "$ROOT/sys"
    # A private /dev with the usual nodes (bound from the host's) and its
    # own pty and shm instances.
    mount -t tmpfs -o mode=0755,nosuid tmpfs "$ROOT/dev"
    local node
    for node in null zero full random urandom tty; do
        touch "$ROOT/dev/$node"
        mount --bind "/dev/$node" "$ROOT/dev/$node"
    done
    mkdir "$ROOT/dev/pts" "$ROOT/dev/shm"
    mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts "$ROOT/dev/pts"
    ln -s pts/ptmx "$ROOT/dev/ptmx"
    mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$ROOT/dev/shm"
    ln -s /proc/self/fd "$ROOT/dev/fd"
    ln -s /proc/self/fd/0 "$ROOT/dev/stdin"
    ln -s /proc/self/fd/1 "$ROOT/dev/stdout"
    ln -s /proc/self/fd/2 "$ROOT/dev/stderr"
    mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs "$ROOT/run"
    # Caches of downloads only: what is installed still starts from nothing.
    mount --bind "$CACHE/apt-archives" "$ROOT/var/cache/apt/archives"
    mkdir -p "$ROOT/root/.cache/pip"
    mount --bind "$CACHE/pip" "$ROOT/root/.cache/pip"
    python3 "$HERE/proxy.py" relay "$PORT" "$WORK/proxy.sock" &
    local waited=0
    # shellcheck disable=SC2016  # $1 expands in the inner bash
    until bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"' _ "$PORT" 2>/dev/null; do
        (( waited < 100 )) || { echo "ERROR: the proxy relay did not listen" >&2; exit 1; }
        sleep 0.1
        waited=$((waited + 1))
    done
}

in_root() {
    chroot "$ROOT" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=dumb \
        PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        bash -c 'cd /root/trove && "$@"' in_root "$@"
}

# run LABEL COMMAND...: run it in the root, record PASS/FAIL and seconds;
# its output also goes to WORK/last.log.
run() {
    local label=$1 start=$SECONDS rc=0 verdict=PASS
    shift
    printf '\n==> [fresh root] %s\n' "$label"
    printf '%s\n' "$label" >"$WORK/current"
    in_root "$@" </dev/null 2>&1 | tee "$WORK/last.log"
    rc=${PIPESTATUS[0]}
    (( rc == 0 )) || verdict=FAIL
    printf '%-4s  %-58s %5ds  (exit %d)\n' "$verdict" "$label" $((SECONDS - start)) "$rc" \
        | tee -a "$RESULTS"
}

# The connect command that bin/stack.sh printed (the README's), run as is
# with a query added.
check_readme_connect() {
    local cmd verdict=FAIL
    cmd=$(sed -n 's/^ *\(mariadb -h .* demo\)$/\1/p' "$WORK/last.log" | tail -n 1)
    if [[ -n "$cmd" ]] && in_root bash -c "$cmd -e 'SELECT 1 AS connected'" </dev/null; then
        verdict=PASS
    fi
    printf '%-4s  %-58s %5s\n' "$verdict" "the printed mariadb command connects" - \
        | tee -a "$RESULTS"
}

# After bin/unstack.sh --purge: no state directory, no process of it left.
check_unstacked() {
    local left verdict=PASS
    # stat[e]: the pattern must not match grep's own command line.
    left=$(grep -lE '/root/trove/stat[e]/' /proc/[0-9]*/cmdline 2>/dev/null | tr '\n' ' ')
    if [[ -e "$ROOT/root/trove/state" || -n "$left" ]]; then
        verdict=FAIL
        ps -ef >&2
    fi
    printf '%-4s  %-58s %5s   %s\n' "$verdict" "unstack left no state/ and no process" - \
        "${left:+left: $left}" | tee -a "$RESULTS"
}

main() {
    setup_root
    run "bin/stack.sh" bin/stack.sh
    check_readme_connect
    # The subset has no browser test: no chromium download in the root.
    run "bin/run-tests -k '$TESTS'" env TROVE_TEST_BROWSER=0 bin/run-tests -k "$TESTS"
    run "bin/unstack.sh --purge" bin/unstack.sh --purge
    check_unstacked
}

# One compound command: bash has read all of it before it runs, so editing
# this file during a run cannot change the run.
main "$@"; exit
