"""Where an engine keeps its files: the directories every engine shares.

Each engine's ``Paths`` extends ``EnginePaths`` with properties naming its
own files (socket, pid file, logs, configs) inside these directories.
"""
import dataclasses
import os

from trove.common import exception
from trove.conf import CONF

# sun_path of a unix socket holds 108 bytes including the terminating NUL.
MAX_SOCKET_PATH = 107


@dataclasses.dataclass(frozen=True)
class EnginePaths:
    """All engine paths, derived from CONF at construction time."""

    datadir: str
    run_dir: str
    log_dir: str
    state_dir: str

    @classmethod
    def from_conf(cls):
        state = CONF.guest_state_dir
        return cls(datadir=os.path.join(CONF.mount_point, 'data'),
                   run_dir=os.path.join(state, 'run'),
                   log_dir=os.path.join(state, 'log'),
                   state_dir=state)

    @property
    def volume_dir(self):
        """The data volume's mount point (the datadir's parent): what is
        kept here survives a rebuild on a new root disk."""
        return os.path.dirname(self.datadir)

    @property
    def conf_d(self):
        return os.path.join(self.state_dir, 'conf.d')

    @property
    def socket(self):
        """The engine's unix socket; every engine names its own."""
        raise NotImplementedError

    def check_socket(self):
        """EngineError when the socket path is too long to bind."""
        if len(self.socket.encode()) > MAX_SOCKET_PATH:
            raise exception.EngineError(detail='socket path %s is too long; use a shorter '
                                        'guest_state_dir' % self.socket)
