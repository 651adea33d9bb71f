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

# Fingerprint of everything that decides what pip installs into the venv.
# The infrastructure-database tests also run against a real MariaDB server on
# 127.0.0.1:3306 (root over the local socket).  Start the packaged server when
# nothing answers there.
ensure_mariadb_server() {
    local waited=0
    if port_open 127.0.0.1 3306; then
        say "MariaDB server answers on 127.0.0.1:3306"
        return 0
    fi
    say "Starting the MariaDB server"
    as_root install -d -o mysql -g mysql /run/mysqld
    as_root start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
    until port_open 127.0.0.1 3306; do
        (( waited >= 60 )) && die "MariaDB did not answer on 127.0.0.1:3306 within 60s"
        sleep 2
        waited=$((waited + 2))
    done
}

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
