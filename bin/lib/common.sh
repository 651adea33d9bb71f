# shellcheck shell=bash
# Shared helpers of bin/stack.sh, bin/unstack.sh and bin/run-tests.
#
# Source this file; it defines functions and a few variables and runs nothing
# else.  Every variable can be overridden from the environment:
#   TROVE_PYTHON      interpreter used to create .venv (default: python3)
#   TROVE_VENV        virtualenv directory (default: <repo>/.venv)
#   TROVE_STATE_DIR   state of bin/stack.sh (default: <repo>/state)
#   TROVE_PIP_REFRESH set to 1 to re-run pip even when nothing changed

TROVE_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TROVE_VENV=${TROVE_VENV:-$TROVE_REPO/.venv}
TROVE_STATE_DIR=${TROVE_STATE_DIR:-$TROVE_REPO/state}
TROVE_PYTHON=${TROVE_PYTHON:-python3}

# Debian packages a developer machine needs.  mariadb-server, postgresql and
# redis-server are installed for their engine binaries only: the guest agents
# run private engine processes and nothing here configures or uses the
# system services.
# The packages shellcheck and systemd (systemd-analyze) serve
# tests/unit/test_scripts.py.
TROVE_DEB_PACKAGES=(rabbitmq-server mariadb-server mariadb-backup postgresql redis-server python3-venv
                    python3-dev gcc shellcheck systemd)
# What only bin/run-tests needs: the browser tests/functional/test_horizon.py
# drives Horizon with (Playwright uses Debian's chromium, never a download),
# and qemu-img for the image test_nova_cloud.py uploads to Glance.
# shellcheck disable=SC2034  # used by bin/run-tests
TROVE_TEST_DEB_PACKAGES=(chromium chromium-driver qemu-utils)

RABBIT_HOST=127.0.0.1
RABBIT_PORT=5672

say() { printf '==> %s\n' "$*"; }
warn() { printf 'WARNING: %s\n' "$*" >&2; }
die() { printf 'ERROR: %s\n' "$*" >&2; exit 1; }

# Run a command as root: directly when we are root, else through sudo.
as_root() {
    if [[ $EUID -eq 0 ]]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        die "need root for: $* (run as root or install sudo)"
    fi
}

deb_installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q '^install ok installed$'
}

# Install the Debian packages of TROVE_DEB_PACKAGES (or the arguments) that
# are missing; does not touch apt at all when everything is there.
ensure_packages() {
    local pkgs=("$@") missing=() pkg
    [[ ${#pkgs[@]} -gt 0 ]] || pkgs=("${TROVE_DEB_PACKAGES[@]}")
    command -v dpkg-query >/dev/null 2>&1 || die "dpkg not found: a Debian machine is expected"
    for pkg in "${pkgs[@]}"; do
        deb_installed "$pkg" || missing+=("$pkg")
    done
    if [[ ${#missing[@]} -eq 0 ]]; then
        say "Debian packages present: ${pkgs[*]}"
        return 0
    fi
    say "Installing missing Debian packages: ${missing[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
}

# True when something accepts TCP connections on host:port.
port_open() {
    # shellcheck disable=SC2016  # $1/$2 expand in the inner bash
    timeout 2 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$1" "$2" >/dev/null 2>&1
}

# Start RabbitMQ unless the broker port already answers; waits (bounded).
ensure_rabbitmq() {
    local timeout=${TROVE_RABBIT_TIMEOUT:-120} waited=0
    if port_open "$RABBIT_HOST" "$RABBIT_PORT"; then
        say "RabbitMQ answers on $RABBIT_HOST:$RABBIT_PORT"
        return 0
    fi
    command -v rabbitmq-server >/dev/null 2>&1 || [[ -x /usr/sbin/rabbitmq-server ]] \
        || die "rabbitmq-server is not installed"
    say "Starting RabbitMQ (rabbitmq-server -detached)"
    as_root env PATH="$PATH:/usr/sbin:/sbin" rabbitmq-server -detached
    until port_open "$RABBIT_HOST" "$RABBIT_PORT"; do
        if (( waited >= timeout )); then
            die "RabbitMQ did not answer on $RABBIT_HOST:$RABBIT_PORT within ${timeout}s" \
                "(see /var/log/rabbitmq/)"
        fi
        printf '    waiting for RabbitMQ on %s:%s ... %ds\n' "$RABBIT_HOST" "$RABBIT_PORT" "$waited"
        sleep 3
        waited=$((waited + 3))
    done
    say "RabbitMQ is up after ${waited}s"
}

# ------------------------------------------------- system MariaDB server ----
# tests/functional/test_db_mariadb.py runs the infrastructure database on a
# real MariaDB server at 127.0.0.1:3306.  The "system" server is recognised
# by what answers on that address and by its pid file, never by the name of
# an executable: the guests' own mariadbd processes (instances and spares)
# run the same binary on other addresses.  The TROVE_MARIADB_* variables exist
# so that a test can start a private server the same way.
MARIADB_HOST=127.0.0.1
MARIADB_PORT=${TROVE_MARIADB_PORT:-3306}
MARIADB_DATADIR=${TROVE_MARIADB_DATADIR:-/var/lib/mysql}
MARIADB_RUNDIR=${TROVE_MARIADB_RUNDIR:-/run/mysqld}
MARIADB_PIDFILE=${TROVE_MARIADB_PIDFILE:-$MARIADB_RUNDIR/mysqld.pid}
MARIADB_SOCKET=${TROVE_MARIADB_SOCKET:-$MARIADB_RUNDIR/mysqld.sock}
# Where the server's own output goes when we start it (it explains why a
# server exits at once, e.g. "... how to run mariadbd as root!").
MARIADB_OUTPUT=${TROVE_MARIADB_OUTPUT:-/var/log/mysql/trove-mariadbd.out}
# Options read before anything else (e.g. --no-defaults) and after the others.
MARIADB_FIRST_ARGS=${TROVE_MARIADB_FIRST_ARGS:-}
MARIADB_EXTRA_ARGS=${TROVE_MARIADB_EXTRA_ARGS:-}
MARIADB_TIMEOUT=${TROVE_MARIADB_TIMEOUT:-60}

mariadb_answers() {
    port_open "$MARIADB_HOST" "$MARIADB_PORT"
}

# Pid of the server named by $MARIADB_PIDFILE when that process is alive
# and is a MariaDB/MySQL server; fails otherwise (no file, stale pid, a pid
# reused by another program).
system_mariadb_pid() {
    local pid comm
    pid=$(cat "$MARIADB_PIDFILE" 2>/dev/null) || return 1
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    comm=$(cat "/proc/$pid/comm" 2>/dev/null) || return 1
    case "$comm" in
        mariadbd|mysqld) printf '%s\n' "$pid" ;;
        *) return 1 ;;
    esac
}

_mariadb_bin() {
    PATH="$PATH:/usr/sbin:/sbin" command -v "$1" || die "$1 not found (is mariadb-server installed?)"
}

# The server's own words: what it printed when we started it, and the end of
# the error log its configuration names.
show_mariadb_output() {
    local log
    if [[ -s "$MARIADB_OUTPUT" ]]; then
        warn "output of mariadbd ($MARIADB_OUTPUT):"
        tail -n 25 "$MARIADB_OUTPUT" >&2
    fi
    # shellcheck disable=SC2086  # the option words are split on purpose
    log=$("$(_mariadb_bin mariadbd)" $MARIADB_FIRST_ARGS --print-defaults 2>/dev/null \
          | tr ' ' '\n' | sed -n 's/^--log[-_]error=//p' | tail -n 1)
    if [[ -n "$log" && -s "$log" ]]; then
        warn "end of the server's error log $log:"
        tail -n 25 "$log" >&2
    fi
}

# True while process $1 exists and has not ended (a child of ours that
# exited stays a zombie until this shell exits: that counts as ended).
proc_running() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    [[ "${stat:0:1}" != [ZX] ]]
}

# Wait until the server answers; fail with its output when process $1 ends
# first or when it stays silent for MARIADB_TIMEOUT seconds.
wait_for_mariadb() {
    local pid=$1 waited=0
    until mariadb_answers; do
        if ! proc_running "$pid"; then
            show_mariadb_output
            die "MariaDB server (pid $pid) exited before answering on $MARIADB_HOST:$MARIADB_PORT"
        fi
        if (( waited >= MARIADB_TIMEOUT )); then
            show_mariadb_output
            die "MariaDB did not answer on $MARIADB_HOST:$MARIADB_PORT within ${MARIADB_TIMEOUT}s" \
                "(pid $pid)"
        fi
        sleep 1
        waited=$((waited + 1))
    done
    say "MariaDB server answers on $MARIADB_HOST:$MARIADB_PORT (pid $pid, after ${waited}s)"
}

# Create the datadir when it has no system tables yet; Debian's package
# normally does this, a datadir removed by hand or a private one needs it.
init_mariadb_datadir() {
    [[ -d "$MARIADB_DATADIR/mysql" ]] && return 0
    say "Initialising the MariaDB datadir $MARIADB_DATADIR"
    as_root install -d -o mysql -g mysql -m 0750 "$MARIADB_DATADIR"
    # shellcheck disable=SC2086
    as_root "$(_mariadb_bin mariadb-install-db)" $MARIADB_FIRST_ARGS --user=mysql \
        --datadir="$MARIADB_DATADIR" --skip-test-db --auth-root-authentication-method=socket \
        >"$MARIADB_OUTPUT" 2>&1 || { show_mariadb_output; die "mariadb-install-db failed"; }
}

# Start the system server as the mysql user (never as root, which mariadbd
# refuses), detached, with its output kept in $MARIADB_OUTPUT.
start_system_mariadb() {
    local bin
    bin=$(_mariadb_bin mariadbd)
    as_root install -d -o mysql -g mysql -m 0755 "$MARIADB_RUNDIR"
    as_root install -d "$(dirname "$MARIADB_OUTPUT")"
    init_mariadb_datadir
    # shellcheck disable=SC2206  # the option words are split on purpose
    local cmd=(setsid "$bin" $MARIADB_FIRST_ARGS --user=mysql --datadir="$MARIADB_DATADIR"
               --bind-address="$MARIADB_HOST" --port="$MARIADB_PORT" --socket="$MARIADB_SOCKET"
               --pid-file="$MARIADB_PIDFILE" $MARIADB_EXTRA_ARGS)
    [[ $EUID -eq 0 ]] || cmd=(sudo "${cmd[@]}")
    say "Starting the MariaDB server on $MARIADB_HOST:$MARIADB_PORT (output in $MARIADB_OUTPUT)"
    # A simple command in the background: $! is the server itself (setsid
    # execs it), so wait_for_mariadb sees at once when it exits.
    "${cmd[@]}" >"$MARIADB_OUTPUT" 2>&1 </dev/null &
    wait_for_mariadb $!
}

# Make sure a MariaDB server answers on 127.0.0.1:3306: one that already
# answers is used as it is, one that is starting (alive per its pid file) is
# waited for, otherwise the packaged server is started.
ensure_mariadb_server() {
    local pid
    if mariadb_answers; then
        say "MariaDB server answers on $MARIADB_HOST:$MARIADB_PORT"
        return 0
    fi
    if pid=$(system_mariadb_pid); then
        say "MariaDB server (pid $pid, $MARIADB_PIDFILE) is starting"
        wait_for_mariadb "$pid"
        return 0
    fi
    start_system_mariadb
}

# Fingerprint of everything that decides what pip installs into the venv.
_install_fingerprint() {
    (
        cd "$TROVE_REPO" || exit 1
        "$TROVE_VENV/bin/python" -c 'import sys; print(sys.version)'
        cat requirements.txt test-requirements.txt setup.cfg pyproject.toml setup.py 2>/dev/null
    ) | sha256sum | cut -d' ' -f1
}

# Create (or repair) .venv and pip-install the project editable with the
# runtime and test requirements.  pip runs again only when requirements,
# packaging metadata or the interpreter changed (or TROVE_PIP_REFRESH=1).
ensure_venv() {
    local stamp="$TROVE_VENV/.trove-install-stamp" want
    if [[ -x "$TROVE_VENV/bin/python" ]] && ! "$TROVE_VENV/bin/python" -c '' 2>/dev/null; then
        warn "$TROVE_VENV is broken; recreating it"
        rm -rf "$TROVE_VENV"
    fi
    if [[ ! -x "$TROVE_VENV/bin/python" ]]; then
        command -v "$TROVE_PYTHON" >/dev/null 2>&1 || die "$TROVE_PYTHON not found"
        "$TROVE_PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
            || die "$TROVE_PYTHON is older than 3.11"
        say "Creating virtualenv $TROVE_VENV with $TROVE_PYTHON"
        "$TROVE_PYTHON" -m venv "$TROVE_VENV"
    fi
    want=$(_install_fingerprint)
    if [[ "${TROVE_PIP_REFRESH:-0}" != 1 && -f "$stamp" && "$(cat "$stamp")" == "$want" \
          && -x "$TROVE_VENV/bin/trove-api" ]]; then
        say "Virtualenv $TROVE_VENV is up to date"
        return 0
    fi
    # pbr takes the version from git; a tarball or a copy without .git needs
    # it given explicitly.
    if ! git -C "$TROVE_REPO" rev-parse --verify -q HEAD >/dev/null 2>&1; then
        export PBR_VERSION=${PBR_VERSION:-0.1.0}
    fi
    say "Installing trove and its requirements into $TROVE_VENV (minutes on a fresh machine)"
    "$TROVE_VENV/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip
    (cd "$TROVE_REPO" && "$TROVE_VENV/bin/python" -m pip install -q \
        --disable-pip-version-check -e . -r requirements.txt -r test-requirements.txt)
    _install_fingerprint >"$stamp"
}

# Name of the installed MariaDB server version, e.g. 10.11.
mariadb_version() {
    local bin
    bin=$(PATH="$PATH:/usr/sbin:/sbin" command -v mariadbd || true)
    [[ -n "$bin" ]] || die "mariadbd not found (is mariadb-server installed?)"
    "$bin" --version | sed -nE 's/.*Ver ([0-9]+\.[0-9]+)\..*/\1/p' | head -n1
}

# pid of a running process whose command line contains $2, from pid file $1.
pid_alive() {
    local pidfile=$1 needle=$2 pid
    [[ -f "$pidfile" ]] || return 1
    pid=$(cat "$pidfile" 2>/dev/null || true)
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    [[ -r "/proc/$pid/cmdline" ]] || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$needle" || return 1
    printf '%s\n' "$pid"
}
