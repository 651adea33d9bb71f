"""The interface of an engine's continuous archive, for point-in-time recovery.

An ``ArchiveStrategy`` streams an engine's change log (PostgreSQL WAL, MariaDB
binary logs) into a local spool directory with the engine's own tool, and
replays archived segments on a restored datadir up to a point in time.  The
engine-neutral part of the guest supervises the streaming process and ships
the bytes appended to the spool files into the backup store; it never parses
an engine's format, so everything engine-specific lives behind this class.
"""
import abc
import dataclasses
import datetime
import os


@dataclasses.dataclass
class ReplayRequest:
    """What a restore to a point in time hands to the engine's strategy."""

    # Archived segments, reassembled as whole files named by their segment key.
    segments_dir: str
    # Metadata of the backup restored first (it holds the engine's position).
    backup_meta: dict
    # Aware UTC time: every commit at or before it is replayed, none after it.
    target_time: datetime.datetime
    # (segment key, offset) of the newest position sample at or before
    # target_time (shipper.position_at), for a strategy that samples.
    position: tuple | None = None


class ArchiveStrategy(abc.ABC):
    """One engine's way to stream and replay its change log."""

    def __init__(self, engine):
        self.engine = engine

    @abc.abstractmethod
    def stream_argv(self, spool_dir: str) -> list:
        """The command of a long-running process that streams segments into
        ``spool_dir``.  It is restarted whenever it exits and must resume from
        what ``spool_dir`` holds: no gap, and bytes it writes again at an
        offset it already wrote are the same bytes."""

    def stream_env(self) -> dict:
        """Extra environment of the streaming process (e.g. a password)."""
        return {}

    def prepare_stream(self) -> None:  # noqa: B027 - optional hook
        """Set up what streaming needs on the engine (a slot, a user)."""

    def end_stream(self) -> None:  # noqa: B027 - optional hook
        """Undo ``prepare_stream`` once archiving is turned off."""

    @abc.abstractmethod
    def segment_key(self, filename: str):
        """The stable name of the segment a spool file holds (PostgreSQL drops
        ``.partial``), or None for a file that is not a segment."""

    def written_size(self, path: str) -> int:
        """How many leading bytes of spool file ``path`` are final (the
        shipper ships no further).  A file that only grows is final up to
        its size; an engine whose tool pre-allocates files says otherwise."""
        return os.path.getsize(path)

    def volatile_offsets(self, key: str) -> tuple:
        """Offsets of segment ``key`` whose byte may differ when the stream
        writes the file again from its start (MariaDB's in-use flag); the
        shipper ignores them when it checks that a rewrite gives back the
        bytes it shipped.  None by default."""
        return ()

    # Whether the shipper stores samples of ``log_end`` with the archive and
    # the newest archived one is the recoverable time (shipper.py): for an
    # engine whose log stamps are too coarse to stop a replay between them.
    samples_positions = False

    def log_end(self):
        """(segment key, offset) the engine's log has reached now: every
        commit acknowledged before the call is in the log before it.  The
        shipper vouches for a time only once it shipped up to the point read
        then, so a stream still catching up (restarted, rewriting its file)
        holds the recoverable time back.  None: the engine cannot tell, and
        the stream is trusted to be less than an interval behind."""
        return None

    def restorable_time(self, archived_before: datetime.datetime) -> datetime.datetime:
        """The latest target time a restore can honour when every commit
        before ``archived_before`` is archived: that time itself for an
        engine whose commit times are exact (PostgreSQL)."""
        return archived_before

    def start_from(self, backup_meta: dict) -> None:  # noqa: B027 - optional hook
        """Begin an empty spool where a restore from this backup needs the
        archive to begin (MariaDB: the backup's binary log); by default the
        stream knows where to start (PostgreSQL's slot)."""

    def replay_backup(self, chain: list):
        """The entry of a restored backup chain whose metadata says where
        the replay begins: the full backup by default (PostgreSQL restores
        only the base and replays the incrementals' WAL from the archive),
        the newest for an engine that applies the whole chain first."""
        return chain[0]

    @abc.abstractmethod
    def sort_key(self, key: str):
        """A value that orders segment keys in log order."""

    @abc.abstractmethod
    def first_segment(self, backup_meta: dict) -> str:
        """The key of the first segment a restore from this backup needs."""

    @abc.abstractmethod
    def replay(self, req: ReplayRequest) -> None:
        """Entered after the backup chain was restored into the datadir, with
        the engine stopped; replays ``req.segments_dir`` up to
        ``req.target_time`` and returns with the engine running and writable
        (an engine that needs no server to replay may leave the start to the
        prepare of a new instance whose configuration is not written yet)."""
