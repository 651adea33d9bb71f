"""tools/guest-image/upload against an `openstack` CLI stand-in on PATH.

The stand-in records its arguments and prints a new id per image create;
FAIL_AT makes the Nth create fail as Glance would (non-zero exit).
"""
import os
import subprocess

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
UPLOAD = os.path.join(REPO, 'tools', 'guest-image', 'upload')

CLI = r'''#!/bin/bash
echo "$*" >>"$WORK/calls"
if [[ "$1 $2" == "image create" ]]; then
    n=$(( $(cat "$WORK/n" 2>/dev/null || echo 0) + 1 )); echo $n >"$WORK/n"
    [[ "$n" == "${FAIL_AT:-0}" ]] && { echo "HTTP 500" >&2; exit 1; }
    echo "id-$n"
fi
'''


def _upload(tmp_path, *args, fail_at=0, files=('qcow2', 'vmlinuz', 'initrd')):
    bindir = tmp_path / 'bin'
    bindir.mkdir()
    (bindir / 'openstack').write_text(CLI)
    (bindir / 'openstack').chmod(0o755)
    out = tmp_path / 'out'
    out.mkdir()
    for suffix in files:
        (out / ('trove-guest-redis.' + suffix)).write_text(suffix)
    env = dict(os.environ, WORK=str(tmp_path), FAIL_AT=str(fail_at),
               PATH='%s:%s' % (bindir, os.environ['PATH']))
    res = subprocess.run([UPLOAD, '--output', str(out), '--engine', 'redis'] + list(args),
                         env=env, capture_output=True, text=True, timeout=60)
    calls = tmp_path / 'calls'
    return res, calls.read_text().splitlines() if calls.exists() else []


def test_uploads_kernel_ramdisk_and_a_disk_that_names_them(tmp_path):
    res, calls = _upload(tmp_path, '--name', 'g', '--', '--private', '--tag', 'trove')
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == 'id-3'
    kernel, ramdisk, disk = calls
    assert kernel.startswith('image create --private --tag trove --disk-format aki')
    assert kernel.endswith('trove-guest-redis.vmlinuz g-kernel -f value -c id')
    assert '--disk-format ari' in ramdisk and ramdisk.endswith('g-initrd -f value -c id')
    assert '--property kernel_id=id-1 --property ramdisk_id=id-2' in disk
    assert '--property os_command_line=root=/dev/vda rw console=ttyS0' in disk
    assert disk.endswith('trove-guest-redis.qcow2 g -f value -c id')


def test_a_failed_upload_deletes_what_it_had_uploaded(tmp_path):
    res, calls = _upload(tmp_path, fail_at=3)
    assert res.returncode != 0
    assert res.stdout == ''
    assert calls[-2:] == ['image delete id-1', 'image delete id-2']


def test_missing_build_output_uploads_nothing(tmp_path):
    res, calls = _upload(tmp_path, files=('qcow2',))
    assert res.returncode == 1
    assert 'trove-guest-redis.vmlinuz' in res.stderr and 'tools/guest-image/build' in res.stderr
    assert calls == []
