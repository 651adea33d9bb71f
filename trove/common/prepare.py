"""The ``prepare`` request the taskmanager sends to a new guest.

One dataclass instead of a long list of positional RPC arguments; it travels
over RPC as a plain JSON dict (``to_dict``/``from_dict``).
"""
import dataclasses
from dataclasses import dataclass, field


@dataclass
class PrepareRequest:
    """Everything a guest needs to bring up its engine the first time.

    ``databases`` use the API shape ``{name, character_set?, collate?}``;
    ``users`` use ``{name, password, host?, databases: [{name}]}``.
    """

    memory_mb: int = 0
    databases: list[dict] = field(default_factory=list)
    users: list[dict] = field(default_factory=list)
    config_contents: str | None = None
    root_password: str | None = None
    overrides: dict = field(default_factory=dict)
    ds_version: str | None = None
    # Restore source: {backup_id, storage_driver, chain: [{id, location,
    # checksum, backup_type}, ...]} from the full backup to the requested one.
    backup_info: dict | None = None
    # A replica's build: the restored snapshot is its primary's data exactly
    # as it was (no credential reset, which would diverge from the stream it
    # is about to follow), and engines that can start it as a standby at once.
    replica: bool = False

    def to_dict(self) -> dict:
        """Plain JSON types for the RPC wire (deep copies, never aliases)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict | None) -> 'PrepareRequest':
        """Build from a wire dict; unknown keys from newer senders are ignored."""
        data = dict(data or {})
        known = {f.name for f in dataclasses.fields(cls)}
        kwargs = {k: v for k, v in data.items() if k in known}
        # A sender may put None where a list/dict is expected; normalise so
        # engines can iterate without checks.
        for key, empty in (('databases', list), ('users', list), ('overrides', dict)):
            if kwargs.get(key) is None:
                kwargs[key] = empty()
        kwargs['memory_mb'] = int(kwargs.get('memory_mb') or 0)
        return cls(**kwargs)

    def __repr__(self):
        # Passwords must never reach a log through a repr.
        users = [u.get('name') for u in self.users]
        return ('PrepareRequest(memory_mb=%s, databases=%s, users=%s, ds_version=%s, '
                'root_password=%s, replica=%s)' % (
                    self.memory_mb, [d.get('name') for d in self.databases], users,
                    self.ds_version, '***' if self.root_password else None, self.replica))
