"""Files an engine manager writes: configs, secrets and engine-owned dirs.

Engines run as their own OS user (mysql, postgres, redis) when the agent is
root, so the agent hands them their directories and makes the path to them
traversable.  Every file is written to a temporary name and renamed, so an
engine never reads a half-written config.
"""
import os
import pwd
import secrets

from trove.common import exception


def is_root():
    return os.geteuid() == 0


def engine_ids(user):
    """(uid, gid) the engine runs as: ``user`` when the agent is root and the
    user exists, else None (the engine runs as the agent's own user)."""
    if not is_root() or not user:
        return None
    try:
        entry = pwd.getpwnam(user)
    except KeyError:
        return None
    return entry.pw_uid, entry.pw_gid


def engine_env(ids, env=None):
    """The environment of a command run as ``ids`` (from engine_ids): that
    user's HOME, USER and LOGNAME instead of the agent's, as a login would
    set them; ``env`` (default the agent's) unchanged when ``ids`` is None.

    Why: libpq opens ~/.postgresql/postgresql.crt on every TLS attempt and
    fails the attempt, rather than going on without a client certificate,
    when it may not enter HOME (root's 0700 home): a replica could then not
    reach a primary that refuses plain connections."""
    if not ids:
        return env
    try:
        entry = pwd.getpwuid(ids[0])
    except KeyError:
        return env
    env = dict(os.environ if env is None else env)
    env.update(HOME=entry.pw_dir, USER=entry.pw_name, LOGNAME=entry.pw_name)
    return env


def make_traversable(path):
    """Give 'others' search permission on ``path`` and its parents.

    The engine user must reach its files even when they sit below a 0700
    directory (pytest's tmp dirs, /root).  Only the execute bit is added:
    listing stays forbidden.
    """
    path = os.path.abspath(path)
    while True:
        mode = os.stat(path).st_mode
        if not mode & 0o001:
            os.chmod(path, (mode & 0o7777) | 0o001)
        parent = os.path.dirname(path)
        if parent == path:
            return
        path = parent


def engine_dirs(dirs, user, private=()):
    """Create ``dirs``; when running as root give them to ``user`` and make
    them reachable.  Dirs in ``private`` get mode 0700 (data directories)."""
    ids = engine_ids(user)
    for d in dirs:
        os.makedirs(d, exist_ok=True)
        if ids:
            os.chown(d, *ids)
            make_traversable(d)
        if d in private:
            os.chmod(d, 0o700)


def state_dirs(paths, dirs, user, private=()):
    """The agent's conf.d (readable by the engine) and the engine's ``dirs``
    (see engine_dirs) under an EnginePaths."""
    os.makedirs(paths.conf_d, exist_ok=True)
    os.chmod(paths.state_dir, 0o711)
    engine_dirs(dirs, user, private=private)
    if is_root():
        make_traversable(paths.conf_d)


def write_file(path, text, mode=0o644, owner=None):
    """Atomically write ``text`` to ``path`` with ``mode``; ``owner`` is an
    engine user name the file is given to (when the agent is root)."""
    tmp = path + '.tmp'
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, 'w') as f:
        f.write(text)
    os.chmod(tmp, mode)  # O_CREAT's mode is filtered by the umask
    ids = engine_ids(owner)
    if ids:
        os.chown(tmp, *ids)
    os.replace(tmp, path)


class SecretFile:
    """A password kept only in a 0600 file of the guest state dir.

    It never appears on a command line, in a log message or an exception.
    """

    def __init__(self, path):
        self.path = path

    def exists(self):
        return os.path.exists(self.path)

    def read(self):
        try:
            with open(self.path) as f:
                return f.read().strip()
        except FileNotFoundError:
            raise exception.EngineError(detail='the engine admin secret is missing')

    def write(self, password):
        write_file(self.path, password + '\n', mode=0o600)

    def ensure(self):
        """Return the password, creating the file (mode 0600) on first use."""
        if self.exists():
            return self.read()
        password = generate_password()
        self.write(password)
        return password


def generate_password():
    """A random password safe in config files and URLs."""
    return secrets.token_urlsafe(24)


def write_template(path, config_contents):
    """Write the flavor-sized config template at ``path``; an empty one
    keeps the previous file (or writes a placeholder the first time)."""
    if config_contents:
        write_file(path, config_contents.rstrip('\n') + '\n')
    elif not os.path.exists(path):
        write_file(path, '# no flavor template\n')
