"""devstack/plugin.sh runs through its phases against stubbed devstack functions.

The stubs record every devstack call; the test checks what the plugin asked
devstack to do (config keys, keystone endpoint, db_sync, processes).
"""
import configparser
import os
import subprocess

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

HARNESS = r'''
set -e -o pipefail
LOG=$WORK/calls.log
rec() { printf '%s\n' "$*" >>"$LOG"; }
is_service_enabled() {
    local s
    for s in "$@"; do [[ " $ENABLED " == *" $s "* ]] && return 0; done
    return 1
}
enable_service() { rec enable_service "$@"; }
iniset() { rec iniset "$@"; python3 - "$@" <<'PY'
import configparser, sys
path, section, key, value = sys.argv[1:5]
c = configparser.RawConfigParser(); c.optionxform = str; c.read(path)
if section != 'DEFAULT' and not c.has_section(section): c.add_section(section)
c.set(section, key, value)
with open(path, 'w') as f: c.write(f)
PY
}
get_python_exec_prefix() { echo "$WORK/bin"; }
create_service_user() { rec create_service_user "$@"; }
get_or_create_service() { rec get_or_create_service "$@"; echo svc-id; }
get_or_create_endpoint() { rec get_or_create_endpoint "$@"; }
setup_develop() { rec setup_develop "$@"; }
use_library_from_git() { return 1; }
pip_install_gr() { rec pip_install_gr "$@"; }
ipv6_unquote() { echo "$1"; }
database_connection_url() { echo "mysql+pymysql://root:pw@127.0.0.1/$1?charset=utf8"; }
iniset_rpc_backend() { rec iniset_rpc_backend "$@"; }
get_transport_url() { echo "rabbit://stackrabbit:pw@10.0.0.5:5672/"; }
configure_keystone_authtoken_middleware() { rec authtoken "$@"; }
setup_logging() { :; }
recreate_database() { rec recreate_database "$@"; }
run_process() { rec run_process "$@"; }
stop_process() { rec stop_process "$@"; }
wait_for_service() { rec wait_for_service "$@"; }
die() { echo "die: $*" >&2; exit 1; }
echo_summary() { :; }
# The image build needs root and the network: recorded, and its three output
# files made, instead of run.
sudo() {
    rec sudo "$@"
    if [[ "$1" == */tools/guest-image/build ]]; then
        local cache=$3 engine=$5
        mkdir -p "$cache/out"
        for s in qcow2 vmlinuz initrd; do echo "$s" >"$cache/out/trove-guest-$engine.$s"; done
        return 0
    fi
    "$@"
}
openstack() {
    rec "OS_REGION_NAME=${OS_REGION_NAME:-} openstack $*"
    n=$(( $(cat "$WORK/image-count" 2>/dev/null || echo 0) + 1 ))
    echo "$n" >"$WORK/image-count"
    if [[ "$n" == 1 ]]; then echo image-1234; else echo "image-$n"; fi
}
curl() { rec curl "$@"; }
# tools/guest-image/upload is a script of its own: it sees these through the
# environment.
export LOG
export -f rec openstack
DEST=$WORK/dest DATA_DIR=$WORK/data FILES=$WORK/files SERVICE_HOST=10.0.0.5
SERVICE_PROTOCOL=http REGION_NAME=RegionOne STACK_USER=$(id -un)
SERVICE_PASSWORD=svcpw SERVICE_PROJECT_NAME=service ENABLE_DEBUG_LOG_LEVEL=True
KEYSTONE_SERVICE_URI=http://10.0.0.5/identity SERVICE_LISTEN_ADDRESS=0.0.0.0 SERVICE_TIMEOUT=60
TROVE_DIR=$REPO TROVE_CONF_DIR=$WORK/etc TROVE_GUEST_IMAGE_URL=${IMAGE_URL-http://images/guest.qcow2}
mkdir -p "$WORK/bin" "$FILES"
printf '#!/bin/sh\necho "trove-manage $*" >>"%s"\n' "$LOG" >"$WORK/bin/trove-manage"
chmod +x "$WORK/bin/trove-manage"
source "$REPO/devstack/settings"
for phase in "stack install" "stack post-config" "stack extra" "unstack"; do
    # shellcheck disable=SC2086
    set -- $phase
    source "$REPO/devstack/plugin.sh"
done
'''


def _run(tmp_path, enabled='trove trove-api trove-tmgr trove-cond keystone g-api', **extra):
    env = dict(os.environ, WORK=str(tmp_path), REPO=REPO, ENABLED=enabled, **extra)
    res = subprocess.run(['bash', '-c', HARNESS], env=env, capture_output=True, text=True,
                         timeout=120)
    assert res.returncode == 0, res.stdout + res.stderr
    return (tmp_path / 'calls.log').read_text().splitlines()


def test_phases_configure_register_and_start(tmp_path):
    calls = _run(tmp_path)
    assert 'enable_service trove trove-api trove-tmgr trove-cond' in calls
    assert 'setup_develop %s' % REPO in calls
    assert ('get_or_create_endpoint svc-id RegionOne '
            'http://10.0.0.5:8779/v1.0/$(project_id)s') in calls
    assert 'get_or_create_service trove database Trove Database Service' in calls
    conf = configparser.RawConfigParser()
    conf.read(tmp_path / 'etc' / 'trove.conf')
    assert conf.get('DEFAULT', 'api_pipeline') == 'trove'
    assert conf.get('DEFAULT', 'bind_port') == '8779'
    assert conf.get('database', 'connection').startswith('mysql+pymysql://')
    assert conf.get('DEFAULT', 'enable_secure_rpc_messaging') == 'True'
    master = conf.get('DEFAULT', 'inst_rpc_key_encr_key')
    assert len(master) == 64 and master != conf.get('DEFAULT', 'taskmanager_rpc_encr_key')
    assert oct(os.stat(tmp_path / 'etc' / 'trove.conf').st_mode & 0o777) == '0o600'
    assert (tmp_path / 'etc' / 'api-paste.ini').exists()
    guest = configparser.RawConfigParser()
    guest.read(tmp_path / 'etc' / 'trove-guestagent.conf')
    assert guest.get('DEFAULT', 'transport_url').startswith('rabbit://')
    manage = [c for c in calls if c.startswith('trove-manage')]
    assert manage[0].endswith('db_sync')
    assert any('datastore_version_update mariadb 10.11 mariadb image-1234' in c
               for c in manage)
    assert any('openstack --os-region-name RegionOne image create' in c for c in calls)
    started = [c.split()[1] for c in calls if c.startswith('run_process')]
    assert started == ['trove-api', 'trove-tmgr', 'trove-cond']
    assert any('trove-taskmanager --config-file' in c for c in calls)
    stopped = [c.split()[1] for c in calls if c.startswith('stop_process')]
    assert sorted(stopped) == sorted(started)


def test_plugin_is_inert_when_trove_is_disabled(tmp_path):
    calls = _run(tmp_path, enabled='keystone')
    assert calls == ['enable_service trove trove-api trove-tmgr trove-cond']


def test_without_an_image_url_the_image_is_built_and_uploaded_with_its_kernel(tmp_path):
    calls = _run(tmp_path, IMAGE_URL='', TROVE_DATASTORE_MANAGER='postgresql',
                 TROVE_DATASTORE_TYPE='postgresql', TROVE_DATASTORE_VERSION='15')
    cache = tmp_path / 'data' / 'trove' / 'guest-image'
    build = [c for c in calls if c.startswith('sudo ') and 'guest-image/build' in c]
    assert build == ['sudo %s/tools/guest-image/build --cache %s --engine postgresql'
                     % (REPO, cache)]
    uploads = [c for c in calls if 'openstack image create' in c]
    assert len(uploads) == 3
    assert all(c.startswith('OS_REGION_NAME=RegionOne ') for c in uploads)
    assert all('--project service --private --tag trove' in c for c in uploads)
    kernel, ramdisk, disk = uploads
    assert '--disk-format aki' in kernel and 'trove-guest-postgresql.vmlinuz' in kernel
    assert '--disk-format ari' in ramdisk and 'trove-guest-postgresql.initrd' in ramdisk
    assert '--disk-format qcow2' in disk and 'trove-guest-postgresql.qcow2' in disk
    # The ids the first two uploads printed are the disk's kernel and ramdisk.
    assert 'kernel_id=image-1234' in disk and 'ramdisk_id=image-2' in disk
    assert "os_command_line=root=/dev/vda rw console=ttyS0" in disk
    manage = [c for c in calls if c.startswith('trove-manage')]
    assert any('datastore_version_update postgresql 15 postgresql image-3' in c
               for c in manage)


def test_local_driver_builds_no_image(tmp_path):
    calls = _run(tmp_path, IMAGE_URL='', TROVE_COMPUTE_DRIVER='local')
    assert not [c for c in calls if 'guest-image' in c or 'image create' in c]
    manage = [c for c in calls if c.startswith('trove-manage')]
    assert any("datastore_version_update mariadb 10.11 mariadb  " in c for c in manage)
