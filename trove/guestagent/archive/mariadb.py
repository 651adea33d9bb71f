"""The continuous archive of MariaDB: binary logs streamed and replayed.

Streaming: ``mariadb-binlog --read-from-remote-server --raw --stop-never``
copies every binary log of the engine, byte for byte, into the spool as a
file of the same name (``mysql-bin.000042``), as a replica would receive
it.  It logs in over the unix socket as ``os_archive@localhost`` (only
REPLICATION SLAVE and BINLOG MONITOR), whose password sits in a 0600
defaults file, never on a command line.  A restarted stream begins again at
the start of the newest file the spool holds: ``--raw`` rewrites that
file from its start with the same bytes, since binary logs are
append-only, so nothing is missed and nothing is duplicated.  One bit is
the exception (tested): the in-use flag of a log's header (byte 21), set
while the server writes the log and cleared when it closes it.  A log
streamed while it was written keeps the flag set in the spool, and a
rewrite after the server closed it has it cleared; replay does not care
(mariadb-binlog only notes it) and the header's checksum does not cover it.
An empty spool starts at the server's
oldest binary log, or at ``start_file`` when the caller knows the backup's.
The dump identifies itself with the engine's own server id, which no
replica of this engine can have.

Replay: the restored datadir is started as it is (its binlog position is
the backup's: mariabackup records ``file offset gtid``), then
``mariadb-binlog --start-position=<offset> --stop-datetime=...`` over the
archived files, from the backup's file on, is piped into the ``mariadb``
client; the replayed transactions keep their GTIDs and are logged again by
the restored engine.

Which commits a target time T includes: MariaDB stamps every binlog event
with the whole second at which its statement began.  A transaction is
written at commit, led by its GTID event, which carries the second of the
committing statement (the COMMIT, or the one autocommit statement); call
that its commit stamp.  Whole seconds alone would lose up to a second, so
the shipper also samples ``SHOW MASTER STATUS`` every pass (about 0.4 s)
and stores each sample, (time, file, position), with the archive once the
archive holds the log up to it (shipper.py); the time is read after the
engine answered, so the log up to the position is what the engine had
logged at an instant no later than the sample's time.  The latest
restorable time is the newest such sample.  A restore to T replays the
binary log in log order

1. up to the position of the newest sample at or before T
   (``--stop-position``, on the last file given), then
2. on from there up to, not including, the first transaction whose commit
   stamp is T's second or later (``--stop-datetime`` = floor(T), exclusive,
   read in UTC); without such a sample step 2 starts at the backup.

So a restore to T holds exactly a prefix of the commit order: every
transaction the engine had logged at the sample's instant (every commit
acknowledged before the sample was asked for), and every transaction
stamped in a second before T's that precedes the first one stamped later;
nothing logged after the sample whose committing statement began in T's
second or later.  With a single writer stamping rows ``NOW(6)`` this means:
every row of a second before T's is there, every row acknowledged before
the sample is there, and no row stamped after T is (a row logged before the
sample ran its statement before the sample's time, which is at most T).
Both stops fall on transaction boundaries (a sample's position is the end
of a logged event group).  The two steps are two ``mariadb-binlog`` runs
piped one after the other into one ``mariadb`` client.
"""
import datetime
import os
import re
import subprocess
import time

from oslo_log import log as logging

from trove.backup import archive_keys
from trove.common import exception
from trove.conf import CONF
from trove.guestagent.archive import base
from trove.guestagent.engines import process
from trove.guestagent.engines.common import files
from trove.guestagent.engines.mysql import config, replication, security

LOG = logging.getLogger(__name__)
STREAM_USER = 'os_archive'
# A binary log file of the engine (my.cnf: log-bin = mysql-bin); the .index
# and other engine files (aria_log.00000001) are not.
_SEGMENT = archive_keys.BINLOG_RE
# The byte of a binary log that changes after it was written: the low byte
# of the format description event's flags (4-byte magic + 13-byte header
# offset), whose LOG_EVENT_BINLOG_IN_USE_F bit the server clears when it
# closes the log.  The event's checksum is computed without that bit.
IN_USE_FLAG_OFFSET = 21
IN_USE_FLAG = 0x01
# The backup's binary log coordinates in mariabackup's xtrabackup_info.
_INFO_POS = re.compile(r"binlog_pos = filename '([^']+)', position '(\d+)'"
                       r"(?:, GTID of the last change '([0-9,-]*)')?")
# The header mariadb-binlog prints for a transaction's GTID event:
# "#261203 14:11:20 server id 2135817729  end_log_pos 9814 CRC32 0x...  GTID 0-1-5 trans"
_GTID_HEADER = re.compile(r'#(\d{6}) ([ \d]\d:\d\d:\d\d) server id \d+ .*\tGTID ')
MAX_PACKET = 1024 * 1024 * 1024  # row events of big transactions replay as one statement


def backup_position(lsn_dir):
    """{'binlog_file', 'binlog_position', 'binlog_gtid'} mariabackup wrote
    into ``lsn_dir`` (its --extra-lsndir), or {} when it recorded none."""
    try:
        with open(os.path.join(lsn_dir, 'xtrabackup_info')) as f:
            match = _INFO_POS.search(f.read())
    except FileNotFoundError:
        return {}
    if not match:
        return {}
    return {'binlog_file': match.group(1), 'binlog_position': int(match.group(2)),
            'binlog_gtid': match.group(3) or ''}


binlog_number = archive_keys.binlog_number


def list_binlogs(directory, first=None):
    """Binary log names in ``directory`` in log order, from ``first`` on."""
    try:
        names = [n for n in os.listdir(directory) if _SEGMENT.match(n)]
    except FileNotFoundError:
        return []
    if first is not None:
        names = [n for n in names if binlog_number(n) >= binlog_number(first)]
    return sorted(names, key=binlog_number)


def last_commit_stamp(lines):
    """The commit stamp (aware UTC) of the last transaction in ``lines``,
    mariadb-binlog's text of a log read with TZ=UTC, or None."""
    found = None
    for line in lines:
        found = _GTID_HEADER.match(line) or found
    if found is None:
        return None
    stamp = datetime.datetime.strptime('%s %s' % (found.group(1), found.group(2).strip()),
                                       '%y%m%d %H:%M:%S')
    return stamp.replace(tzinfo=datetime.UTC)


def stop_datetime(target_time):
    """The exclusive ``--stop-datetime`` (UTC text) of a restore to
    ``target_time``: the start of the second it falls in."""
    if target_time.tzinfo is None:
        raise exception.BadRequest(detail='the target time needs a time zone')
    utc = target_time.astimezone(datetime.UTC).replace(microsecond=0)
    return utc.strftime('%Y-%m-%d %H:%M:%S')


def replay_runs(keys, start_position, sample, target_time):
    """The mariadb-binlog arguments (options, then files) of the runs that
    replay ``keys`` (log order, from the backup's file) from
    ``start_position`` to ``target_time``: up to ``sample`` = (file,
    position) when it lies past the start, then on by commit stamp."""
    begin, first = (keys[0], start_position), keys[0]
    runs = []
    if sample is not None and sample[0] in keys and \
            (binlog_number(sample[0]), sample[1]) > (binlog_number(first), start_position):
        upto = keys[:keys.index(sample[0]) + 1]
        runs.append((['--start-position=%d' % start_position,
                      '--stop-position=%d' % sample[1]], upto))
        begin = sample
    rest = keys[keys.index(begin[0]):]
    runs.append((['--start-position=%d' % begin[1],
                  '--stop-datetime=%s' % stop_datetime(target_time)], rest))
    return runs


def _write_option_file(path, user, password, socket_path):
    """A 0600 [client] option file: the password never reaches argv."""
    files.write_file(path, '[client]\nuser = %s\npassword = "%s"\nsocket = %s\n'
                     % (user, password, socket_path), mode=0o600)


class MariaDBArchive(base.ArchiveStrategy):
    """Binary log streaming and replay of one MariaDB engine."""

    # Where an empty spool starts when set (the first binlog a backup needs);
    # else the server's oldest binary log.
    start_file = None

    def __init__(self, engine):
        super().__init__(engine)
        state = engine.paths.state_dir
        self.secret = files.SecretFile(os.path.join(state, 'mariadb-archive.secret'))
        self.defaults_file = os.path.join(state, 'mariadb-archive.cnf')

    # -- streaming ---------------------------------------------------------
    def prepare_stream(self):
        """``os_archive@localhost`` with exactly the rights a binlog dump
        needs, and its option file.

        The statements stay out of the binary log: every member of a
        replica set has its own account and password (a replicated ALTER
        would break a replica's login), and a replica must not log
        transactions its primary never had.
        """
        password = self.secret.ensure()
        account = (STREAM_USER, 'localhost')
        with self.engine.admin.cursor() as cur:
            cur.execute('SET SESSION sql_log_bin = 0')
            cur.execute('CREATE USER IF NOT EXISTS %s@%s IDENTIFIED BY %s', account + (password,))
            cur.execute('ALTER USER %s@%s IDENTIFIED BY %s', account + (password,))
            # Converge on exactly these rights, whatever the account had.
            cur.execute('REVOKE ALL PRIVILEGES, GRANT OPTION FROM %s@%s', account)
            cur.execute('GRANT REPLICATION SLAVE, BINLOG MONITOR ON *.* TO %s@%s', account)
        _write_option_file(self.defaults_file, STREAM_USER, password, self.engine.paths.socket)
        LOG.info('Binary log streaming user %s@localhost is ready', STREAM_USER)

    def stream_argv(self, spool_dir, start_file=None):
        """The dump resumes at the newest spool file, else starts at
        ``start_file``, ``self.start_file`` or the oldest binary log."""
        if not os.path.exists(self.defaults_file):
            raise exception.EngineError(detail='binary log streaming is not prepared')
        first = (self.newest_segment(spool_dir) or start_file or self.start_file
                 or self.oldest_binlog())
        if not first:
            raise exception.EngineError(detail='the engine has no binary log to stream')
        return [process.find_binary('mariadb-binlog') or 'mariadb-binlog',
                '--defaults-file=%s' % self.defaults_file,
                '--read-from-remote-server', '--raw', '--stop-never',
                '--stop-never-slave-server-id=%d' % config.server_id(CONF.host_address),
                '--result-file=%s' % os.path.join(spool_dir, ''), first]

    def newest_segment(self, directory):
        """The key of the newest binary log in ``directory``, or None."""
        keys = list_binlogs(directory)
        return keys[-1] if keys else None

    def oldest_binlog(self):
        """The first file of the engine's binlog index (read from disk, so
        it works while the engine is down), or None."""
        paths = self.engine.paths
        for name in sorted(os.listdir(paths.datadir)) if os.path.isdir(paths.datadir) else []:
            if name.endswith('-bin.index'):
                with open(os.path.join(paths.datadir, name)) as f:
                    entries = [os.path.basename(line.strip()) for line in f if line.strip()]
                return entries[0] if entries else None
        return None

    def segment_key(self, filename):
        return filename if _SEGMENT.match(filename) else None

    def sort_key(self, key):
        return binlog_number(key)

    def volatile_offsets(self, key):
        return (IN_USE_FLAG_OFFSET,)

    def log_end(self):
        # One short socket login per pass (every 0.4 s).
        rows = self.engine.admin.execute('SHOW MASTER STATUS')
        return (rows[0][0], int(rows[0][1])) if rows else None

    # The recoverable time is the newest archived position sample.
    samples_positions = True

    def start_from(self, backup_meta):
        self.start_file = self.first_segment(backup_meta)

    def replay_backup(self, chain):
        # The chain is applied whole; its newest backup holds the position.
        return chain[-1]

    def first_segment(self, backup_meta):
        name = archive_keys.binlog_first_segment(backup_meta)
        if not name:
            raise exception.EngineError(detail='the backup recorded no binary log position')
        return name

    # -- replay --------------------------------------------------------------
    def replay(self, req: base.ReplayRequest):
        stop_datetime(req.target_time)  # a target without a zone: BadRequest, nothing done
        first = self.first_segment(req.backup_meta)
        keys = list_binlogs(req.segments_dir, first)
        if not keys or keys[0] != first:
            raise exception.EngineError(detail='the archive lacks binary log %s' % first)
        self._check_contiguous(keys)
        self._check_not_before_backup(req, first)
        paths = self.engine.paths
        if not os.path.exists(paths.my_cnf):
            config.write_config(paths, None, {})
        self.engine.start()
        security.ensure_admin(paths.socket, self.engine.secret)
        previous = self.engine.admin.execute('SELECT @@GLOBAL.max_allowed_packet')[0][0]
        self.engine.admin.execute('SET GLOBAL max_allowed_packet = %s', (MAX_PACKET,))
        try:
            self._pipe(req, keys)
        finally:
            self.engine.admin.execute('SET GLOBAL max_allowed_packet = %s', (previous,))
        self._retire_backup_position()
        LOG.info('Replayed binary logs %s..%s up to %s', keys[0], keys[-1],
                 req.target_time.isoformat())

    def _check_not_before_backup(self, req, first):
        """BadRequest when the backup already holds a commit stamped after
        the target: no replay can take its data back to an earlier time."""
        position = int(req.backup_meta.get('binlog_position') or 4)
        argv = [process.find_binary('mariadb-binlog') or 'mariadb-binlog', '--no-defaults',
                '--base64-output=DECODE-ROWS', '--stop-position=%d' % position,
                os.path.join(req.segments_dir, first)]
        # Line by line: the text of a large log must not sit in memory.
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                stdin=subprocess.DEVNULL, text=True, errors='replace',
                                env=dict(os.environ, TZ='UTC'))
        stamp = last_commit_stamp(proc.stdout)
        if proc.wait() != 0:
            raise exception.EngineError(detail='mariadb-binlog cannot read %s' % first)
        if stamp is not None and stamp > req.target_time.astimezone(datetime.UTC):
            raise exception.BadRequest(
                detail='the backup holds commits up to %s, later than the target time %s; '
                       'restore from an earlier backup' % (stamp.isoformat(),
                                                           req.target_time.isoformat()))

    def _retire_backup_position(self):
        """The backup's binlog info files no longer describe the data: a
        later replica attach must not rewind to them (replication.py reads
        the files it finds, and renames them the same way)."""
        for name in replication.BACKUP_INFO_FILES:
            path = os.path.join(self.engine.paths.datadir, name)
            if os.path.exists(path):
                os.replace(path, path + '.used')

    def _check_contiguous(self, keys):
        numbers = [binlog_number(k) for k in keys]
        missing = sorted(set(range(numbers[0], numbers[-1] + 1)) - set(numbers))
        if missing:
            raise exception.EngineError(detail='the archive misses binary log number %d'
                                        % missing[0])

    def _pipe(self, req, keys):
        """mariadb-binlog ... | mariadb, both checked, within the restore timeout."""
        paths = self.engine.paths
        login = os.path.join(paths.state_dir, 'mariadb-replay.cnf')
        _write_option_file(login, CONF.mariadb.root_controller_user,
                           self.engine.secret.read(), paths.socket)
        log_path = os.path.join(paths.log_dir, 'binlog-replay.log')
        binlog = process.find_binary('mariadb-binlog') or 'mariadb-binlog'
        runs = replay_runs(keys, int(req.backup_meta.get('binlog_position') or 4),
                           req.position, req.target_time)
        apply = [process.find_binary('mariadb') or 'mariadb', '--defaults-file=%s' % login,
                 '--binary-mode', '--max-allowed-packet=%d' % MAX_PACKET]
        # --stop-datetime is read in the local time zone of mariadb-binlog.
        env = dict(os.environ, TZ='UTC')
        deadline = time.monotonic() + CONF.backup.restore_timeout
        try:
            with open(log_path, 'ab') as err:
                read_end, write_end = os.pipe()
                with os.fdopen(read_end, 'rb') as source:
                    consumer = subprocess.Popen(apply, stdin=source, stderr=err,
                                                stdout=subprocess.DEVNULL)
                codes = []
                try:
                    # One run after the other into the one client.
                    for options, names in runs:
                        producer = subprocess.Popen(
                            [binlog, '--no-defaults', *options,
                             *[os.path.join(req.segments_dir, k) for k in names]],
                            stdout=write_end, stderr=err, stdin=subprocess.DEVNULL, env=env)
                        codes += _wait_all((producer,), max(1, deadline - time.monotonic()),
                                           also=(consumer,))
                        if codes[-1]:
                            break
                finally:
                    os.close(write_end)
                codes += _wait_all((consumer,), max(1, deadline - time.monotonic()))
        finally:
            os.unlink(login)
        if any(codes):
            raise exception.EngineError(detail='binary log replay failed (exits %s): %s'
                                        % (codes, process.tail(log_path, 8).strip()))


def _wait_all(procs, timeout, also=()):
    """Exit codes of ``procs``; all of them and ``also`` are killed when one
    outlives ``timeout``."""
    try:
        return [p.wait(timeout=timeout) for p in procs]
    except subprocess.TimeoutExpired:
        for p in (*procs, *also):
            p.kill()
            p.wait()
        raise exception.EngineError(detail='binary log replay took over %ss' % timeout)
