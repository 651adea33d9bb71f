"""Benchmark: backup and restore throughput (MB/s) through the product vs bare tools.

A MariaDB instance is filled with ``--size-mb`` of InnoDB data (batches
from the SEQUENCE engine that double in size).  Then, on the same machine:

* product backup: ``POST /backups`` until COMPLETED (mariabackup stream,
  compression, sha256, local store, conductor round trips);
* bare backup: ``mariabackup --backup --stream=xbstream > file`` on the same
  instance (and the same piped through the product's compressor);
* product restore: ``POST /instances`` with ``restorePoint`` until HEALTHY
  (includes booting the guest and starting the engine);
* bare restore: ``mbstream -x`` + ``mariabackup --prepare`` + ``--move-back``.

With ``--datastore postgresql`` the instance is PostgreSQL, filled by
doubling INSERT ... SELECT batches; the bare backup is ``pg_basebackup -Ft
-D - -X fetch > file`` over the guest's socket (the product streams the same
command), and the bare restore is ``tar -x`` plus a postgres recovering to
the end of the backup (``pg_ctl -w start``, then stop).

Throughput = raw stream MB / seconds for every row, so the ratios compare
times.  Not part of the test run:

    .venv/bin/python tools/bench/backup.py --size-mb 1024
    .venv/bin/python tools/bench/backup.py --datastore postgresql --size-mb 200
"""
import argparse
import glob
import os
import shutil
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, REPO)

from tests.functional.stack import Stack  # noqa: E402


def _wait(stack, path, done, timeout=3600):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        code, body = stack.request('GET', path)
        if done(code, body):
            return body
        time.sleep(0.2)
    raise RuntimeError('timed out waiting for %s' % path)


def _instance(stack, name, backup_id=None, datastore=None):
    body = {'name': name, 'flavorRef': '2', 'volume': {'size': 10}}
    if datastore:
        body['datastore'] = {'type': datastore[0], 'version': datastore[1]}
    if backup_id:
        body['restorePoint'] = {'backupRef': backup_id}
    else:
        body.update(databases=[{'name': 'bench'}], users=[
            {'name': 'bench', 'password': 'bench-Pw1', 'databases': [{'name': 'bench'}]}])
    code, resp = stack.request('POST', '/instances', {'instance': body})
    assert code == 200, resp
    instance_id = resp['instance']['id']
    inst = _wait(stack, '/instances/%s' % instance_id, lambda c, b: b['instance'][
        'status'] == 'ERROR' or b['instance']['operating_status'] == 'HEALTHY')['instance']
    if inst['status'] == 'ERROR':
        raise RuntimeError('instance failed: %s' % inst.get('fault'))
    return instance_id, inst['addresses'][0]['address']


def fill(address, size_mb):
    """Double a table until InnoDB holds about ``size_mb`` MB."""
    import pymysql
    conn = pymysql.connect(host=address, user='bench', password='bench-Pw1',
                           database='bench', autocommit=True)
    with conn.cursor() as cur:
        cur.execute('CREATE TABLE t (id BIGINT AUTO_INCREMENT PRIMARY KEY, '
                    'pad VARCHAR(255)) ENGINE=InnoDB')
        rows = 1000
        while True:
            # The SEQUENCE engine feeds rows without the temporary table an
            # INSERT ... SELECT from the same table would need; the batch
            # doubles each round.
            cur.execute('INSERT INTO t (pad) SELECT REPEAT(MD5(RAND()), 4) '
                        'FROM seq_1_to_%d' % rows)
            cur.execute("SELECT data_length + index_length FROM information_schema.tables "
                        "WHERE table_schema = 'bench' AND table_name = 't'")
            if cur.fetchone()[0] >= size_mb * 1024 * 1024:
                break
            rows = min(rows * 2, 1000000)
    conn.close()


def product_backup(stack, instance_id):
    start = time.monotonic()
    code, body = stack.request('POST', '/backups', {'backup': {
        'name': 'bench', 'instance': instance_id}})
    assert code == 202, body
    backup_id = body['backup']['id']
    shown = _wait(stack, '/backups/%s' % backup_id, lambda c, b: b['backup']['status']
                  in ('COMPLETED', 'FAILED'))['backup']
    if shown['status'] != 'COMPLETED':
        raise RuntimeError('backup failed')
    return backup_id, time.monotonic() - start, shown['size'] * 1024 ** 3


def bare_backup(stack, work, compress):
    """Seconds and bytes of a bare streamed backup (root via the unix socket)."""
    [my_cnf] = glob.glob(os.path.join(stack.base_dir, '**', 'my.cnf'), recursive=True)
    out = os.path.join(work, 'bare.xbstream' + ('.zst' if compress else ''))
    cmd = ('mariabackup --defaults-file=%s --user=root --backup --stream=xbstream '
           '--target-dir=%s' % (my_cnf, os.path.join(work, 'tmp')))
    if compress:
        cmd += ' | zstd -q -1 -T0 -c'
    start = time.monotonic()
    with open(out, 'wb') as f:
        subprocess.run(['bash', '-o', 'pipefail', '-c', cmd], stdout=f, check=True,
                       stderr=subprocess.DEVNULL)
    return time.monotonic() - start, out


def bare_restore(work, stream_file):
    target, datadir = os.path.join(work, 'extract'), os.path.join(work, 'datadir')
    os.makedirs(target)
    start = time.monotonic()
    with open(stream_file, 'rb') as f:
        subprocess.run(['mbstream', '-x', '-C', target], stdin=f, check=True)
    for args in (['--prepare', '--target-dir=%s' % target],
                 ['--move-back', '--target-dir=%s' % target, '--datadir=%s' % datadir]):
        subprocess.run(['mariabackup', *args], check=True, capture_output=True)
    return time.monotonic() - start


def pg_fill(address, size_mb):
    """Double a table until it holds about ``size_mb`` MB."""
    import psycopg
    with psycopg.connect(host=address, user='bench', password='bench-Pw1', dbname='bench',
                         autocommit=True) as conn:
        conn.execute('CREATE TABLE t (id BIGSERIAL PRIMARY KEY, pad TEXT)')
        rows = 1000
        while True:
            conn.execute('INSERT INTO t (pad) SELECT repeat(md5(random()::text), 4) '
                         'FROM generate_series(1, %d)' % rows)
            size = conn.execute("SELECT pg_total_relation_size('t')").fetchone()[0]
            if size >= size_mb * 1024 * 1024:
                return
            rows = min(rows * 2, 1000000)


def pg_bare_backup(stack, work, compress):
    """Seconds and file of ``pg_basebackup -Ft -D - -X fetch`` over the guest's socket."""
    from trove.conf import CONF
    [sock] = glob.glob(os.path.join(stack.base_dir, '**', '.s.PGSQL.5432'), recursive=True)
    out = os.path.join(work, 'bare.tar' + ('.zst' if compress else ''))
    cmd = ('pg_basebackup -h %s -p 5432 -U %s -w -D - -Ft -X fetch -c fast --no-manifest'
           % (os.path.dirname(sock), CONF.postgresql.root_controller_user))
    if compress:
        cmd += ' | zstd -q -1 -T0 -c'
    start = time.monotonic()
    with open(out, 'wb') as f:
        subprocess.run(['bash', '-o', 'pipefail', '-c', cmd], stdout=f, check=True)
    return time.monotonic() - start, out


def pg_bare_restore(work, tar_file, bin_dir):
    """``tar -x`` and a postgres recovering to the end of the backup (promoted)."""
    datadir, sock = os.path.join(work, 'pgdata'), os.path.join(work, 'sock')
    os.makedirs(datadir, mode=0o700)
    os.makedirs(sock)
    start = time.monotonic()
    subprocess.run(['tar', '-xf', tar_file, '-C', datadir], check=True)
    for name, text in (('postgresql.conf', ''), ('pg_hba.conf', 'local all all trust\n'),
                       ('pg_ident.conf', ''), ('recovery.signal', '')):
        with open(os.path.join(datadir, name), 'w') as f:
            f.write(text)
    subprocess.run(['chown', '-R', 'postgres:postgres', work], check=True)
    opts = ("-c listen_addresses='' -c unix_socket_directories=%s -c port=5499 "
            "-c hot_standby=off -c archive_mode=off -c restore_command=false "
            "-c recovery_target=immediate -c recovery_target_action=promote" % sock)
    ctl = [os.path.join(bin_dir, 'pg_ctl'), '-D', datadir, '-w', '-t', '3600']
    subprocess.run(['runuser', '-u', 'postgres', '--', *ctl, '-o', opts, '-l',
                    os.path.join(work, 'pg.log'), 'start'], check=True, capture_output=True)
    seconds = time.monotonic() - start
    subprocess.run(['runuser', '-u', 'postgres', '--', *ctl, '-m', 'fast', 'stop'],
                   check=True, capture_output=True)
    return seconds


def main_postgresql(size_mb):
    from trove.guestagent.engines.postgresql import app as pg_app
    bin_dir = pg_app.bin_dirs()[0]
    version = os.path.basename(os.path.dirname(bin_dir))
    stack = Stack(tenant='bench')
    store = os.path.join(stack.dir, 'backups')
    with open(stack.conf, 'a') as f:
        f.write('[backup]\nlocal_store_path = %s\n' % store)
    work = tempfile.mkdtemp(prefix='bench-backup-pg-')
    os.chmod(work, 0o755)
    try:
        stack.start(datastore_versions=[('postgresql', version, 'postgresql')])
        source, address = _instance(stack, 'bench-pg', datastore=('postgresql', version))
        t0 = time.monotonic()
        pg_fill(address, size_mb)
        print('filled %d MB in %.1fs' % (size_mb, time.monotonic() - t0))
        bare_s, raw_file = pg_bare_backup(stack, work, compress=False)
        raw_mb = os.path.getsize(raw_file) / 1e6
        bare_z_s, _ = pg_bare_backup(stack, work, compress=True)
        backup_id, prod_s, stored = product_backup(stack, source)
        bare_r = pg_bare_restore(work, raw_file, bin_dir)
        t0 = time.monotonic()
        _instance(stack, 'bench-pg-restore', backup_id, datastore=('postgresql', version))
        rows = [('bare pg_basebackup -Ft -D - > file', bare_s),
                ('bare pg_basebackup | zstd > file', bare_z_s),
                ('product backup (POST -> COMPLETED)', prod_s),
                ('bare restore (tar -x + recovery)', bare_r),
                ('product restore (POST -> HEALTHY)', time.monotonic() - t0)]
        _report(raw_mb, stored, rows)
    finally:
        stack.stop()
        shutil.rmtree(work, ignore_errors=True)


def _report(raw_mb, stored, rows):
    print('raw stream %.0f MB, stored (compressed) %.0f MB' % (raw_mb, stored / 1e6))
    for name, secs in rows:
        print('%-44s %7.1fs %8.1f MB/s' % (name, secs, raw_mb / secs))
    print('backup ratio product/bare: %.2fx (vs bare+zstd %.2fx)'
          % (rows[2][1] / rows[0][1], rows[2][1] / rows[1][1]))
    print('restore ratio product/bare: %.2fx' % (rows[4][1] / rows[3][1]))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--size-mb', type=int, default=1024)
    parser.add_argument('--datastore', choices=('mariadb', 'postgresql'), default='mariadb')
    args = parser.parse_args()
    if args.datastore == 'postgresql':
        return main_postgresql(args.size_mb)
    stack = Stack(tenant='bench')
    store = os.path.join(stack.dir, 'backups')
    with open(stack.conf, 'a') as f:
        f.write('[backup]\nlocal_store_path = %s\n' % store)
    work = tempfile.mkdtemp(prefix='bench-backup-')
    rows = []
    try:
        stack.start()
        source, address = _instance(stack, 'bench-src')
        t0 = time.monotonic()
        fill(address, args.size_mb)
        print('filled %d MB in %.1fs' % (args.size_mb, time.monotonic() - t0))
        bare_s, raw_file = bare_backup(stack, work, compress=False)
        raw_mb = os.path.getsize(raw_file) / 1e6
        bare_z_s, _ = bare_backup(stack, work, compress=True)
        backup_id, prod_s, stored = product_backup(stack, source)
        rows += [('bare mariabackup --stream > file', bare_s),
                 ('bare mariabackup | zstd > file', bare_z_s),
                 ('product backup (POST -> COMPLETED)', prod_s)]
        bare_r = bare_restore(work, raw_file)
        t0 = time.monotonic()
        _instance(stack, 'bench-restore', backup_id)
        rows += [('bare restore (mbstream+prepare+move-back)', bare_r),
                 ('product restore (POST -> HEALTHY)', time.monotonic() - t0)]
        _report(raw_mb, stored, rows)
    finally:
        stack.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == '__main__':
    main()
