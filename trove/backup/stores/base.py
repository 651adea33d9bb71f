"""The interface of a backup store: streamed, checksummed objects with metadata.

A store keeps one object per backup plus a small metadata document beside
it.  ``put_stream`` consumes an iterator of byte chunks (never the whole
backup in memory or in a temporary copy), computes the sha256 and size while
it writes, and only makes the object visible once every byte arrived: an
interrupted upload leaves nothing a restore could pick up.
"""
import abc
import dataclasses
import hashlib

CHUNK_SIZE = 1024 * 1024


@dataclasses.dataclass
class StoredObject:
    """What ``put_stream`` wrote: where, how big and its sha256 (hex)."""

    location: str
    size: int
    checksum: str


class HashingIterator:
    """Passes chunks through while counting bytes and hashing them (sha256)."""

    def __init__(self, chunks):
        self._chunks = iter(chunks)
        self._hash = hashlib.sha256()
        self.size = 0

    def __iter__(self):
        return self

    def __next__(self):
        chunk = next(self._chunks)
        if chunk:
            self._hash.update(chunk)
            self.size += len(chunk)
        return chunk

    @property
    def checksum(self):
        return self._hash.hexdigest()


class ChecksumMismatch(Exception):
    """The bytes read back do not hash to the recorded checksum."""


def verify(store, location, expected, chunk_size=CHUNK_SIZE):
    """Read the object at ``location`` and raise ChecksumMismatch unless it
    hashes to ``expected``; returns the size read."""
    counted = HashingIterator(store.get_stream(location, chunk_size))
    for _chunk in counted:
        pass
    if counted.checksum != expected:
        # Short hashes keep the message readable as an instance fault.
        raise ChecksumMismatch('checksum mismatch (expected sha256 %s..., read %s...)'
                               % ((expected or '')[:12], counted.checksum[:12]))
    return counted.size


class BackupStore(abc.ABC):
    """One place backups are kept (a directory, a Swift account, ...)."""

    name = 'abstract'

    @abc.abstractmethod
    def put_stream(self, container, object_name, chunks, metadata) -> StoredObject:
        """Store the bytes of ``chunks`` as ``container/object_name``.

        ``metadata`` (flat str -> str/int dict) is stored beside the object,
        completed with ``checksum`` and ``size``.  On any error nothing is
        left behind and the error propagates.
        """

    @abc.abstractmethod
    def get_stream(self, location, chunk_size=CHUNK_SIZE):
        """An iterator over the object's bytes; NotFound when it is absent."""

    @abc.abstractmethod
    def get_metadata(self, location) -> dict:
        """The metadata stored with the object."""

    @abc.abstractmethod
    def delete(self, location) -> None:
        """Remove the object and its metadata; absent objects are not an error."""

    @abc.abstractmethod
    def exists(self, location) -> bool:
        """Whether a complete object is stored at ``location``."""

    def list_objects(self, container, prefix) -> list:
        """[(object name, location)] of the complete objects of ``container``
        whose name starts with ``prefix``, sorted by name (the continuous
        archive finds its chunks this way)."""
        raise NotImplementedError('the %s store cannot list objects' % self.name)

    def discard_partial(self, object_prefix) -> list:  # noqa: B027 - optional
        """Remove what an upload killed mid-way (its process died, so its own
        cleanup never ran) left for objects named ``object_prefix*``; returns
        what was removed."""
        return []
