"""Horizon 27 with trove-dashboard 27, and Playwright, for the browser test.

Both live in throwaway venvs outside the project's (cached under /tmp like
Keystone's).  Horizon runs as a child process (Django's runserver, no
reloader) on a free loopback port against the test Keystone; its settings
file in the venv reads the Keystone URL and secret key from the environment,
so one cached venv serves every run.  Playwright drives Debian's chromium
(``/usr/bin/chromium``): its own browser download is never fetched.
"""
import glob
import os
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

import pytest

from tests.functional.keystone_server import throwaway_venv
from tests.functional.stack import end_process, free_port

HORIZON_REQS = ('horizon>=27,<28', 'trove-dashboard>=27,<28')
HORIZON_VENV = os.environ.get('TROVE_TEST_HORIZON_VENV', '/tmp/trove-test-horizon-venv')
PLAYWRIGHT_VENV = os.environ.get('TROVE_TEST_PLAYWRIGHT_VENV',
                                 '/tmp/trove-test-playwright-venv')
CHROMIUM = '/usr/bin/chromium'

# openstack_dashboard/local/local_settings.py of the venv.
_SETTINGS = '''
import os
DEBUG = True
ALLOWED_HOSTS = ['*']
SECRET_KEY = os.environ['TROVE_HORIZON_SECRET']
OPENSTACK_KEYSTONE_URL = os.environ['TROVE_HORIZON_KEYSTONE_URL']
OPENSTACK_KEYSTONE_DEFAULT_ROLE = 'member'
OPENSTACK_API_VERSIONS = {'identity': 3, 'volume': 3, 'compute': 2}
SESSION_ENGINE = 'django.contrib.sessions.backends.signed_cookies'
CACHES = {'default': {'BACKEND': 'django.core.cache.backends.locmem.LocMemCache'}}
TIME_ZONE = 'UTC'
LOGGING = {'version': 1, 'disable_existing_loggers': False,
           'handlers': {'console': {'class': 'logging.StreamHandler'}},
           'loggers': {'': {'handlers': ['console'], 'level': 'INFO'},
                       'keystoneauth': {'level': 'DEBUG'},
                       'novaclient': {'level': 'DEBUG'},
                       'cinderclient': {'level': 'DEBUG'},
                       'troveclient': {'level': 'DEBUG'}}}
'''

# local_settings.d/ snippets run inside Horizon's settings, after its own
# HORIZON_CONFIG exists.  The single-host catalog has no Neutron or Glance,
# so the Compute overview Horizon lands on by default cannot render: users
# start at the databases panel (README, "Horizon").
SINGLE_HOST_SNIPPET = "HORIZON_CONFIG['user_home'] = WEBROOT + 'project/databases/'\n"


def horizon_venv():
    """Horizon's venv python, with trove-dashboard's panels enabled."""
    python = throwaway_venv(HORIZON_VENV, *HORIZON_REQS)
    site = glob.glob(os.path.join(HORIZON_VENV, 'lib', 'python3*', 'site-packages'))[0]
    local = os.path.join(site, 'openstack_dashboard', 'local')
    for panel in glob.glob(os.path.join(site, 'trove_dashboard', 'enabled', '_1*.py')):
        shutil.copy(panel, os.path.join(local, 'enabled'))
    with open(os.path.join(local, 'local_settings.py'), 'w') as f:
        f.write(_SETTINGS)
    with open(os.path.join(local, 'local_settings.d', '_90_trove_single_host.py'), 'w') as f:
        f.write(SINGLE_HOST_SNIPPET)
    return python


def playwright_venv():
    """Playwright's venv python; skips the test when Debian's chromium is missing."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip('%s is missing (apt-get install chromium chromium-driver)' % CHROMIUM)
    return throwaway_venv(PLAYWRIGHT_VENV, 'playwright',
                          env={'PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD': '1'})


class Horizon:
    """One Horizon process: its directory, port and log."""

    def __init__(self, keystone_url):
        self.python = horizon_venv()
        self.dir = tempfile.mkdtemp(prefix='trove-horizon-')
        self.port = free_port()
        self.url = 'http://127.0.0.1:%d' % self.port
        self.log = os.path.join(self.dir, 'horizon.log')
        self.env = dict(os.environ, TROVE_HORIZON_KEYSTONE_URL=keystone_url,
                        TROVE_HORIZON_SECRET=os.urandom(16).hex(),
                        DJANGO_SETTINGS_MODULE='openstack_dashboard.settings')
        self.env.pop('PYTHONPATH', None)
        self.proc = None

    def start(self, timeout=120):
        out = open(self.log, 'ab')
        self.proc = subprocess.Popen(
            [self.python, '-m', 'django', 'runserver', '--noreload', '127.0.0.1:%d' % self.port],
            stdout=out, stderr=subprocess.STDOUT, cwd=self.dir, env=self.env)
        out.close()
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError('horizon exited: %s' % self.read_log()[-2000:])
            try:
                urllib.request.urlopen(self.url + '/auth/login/', timeout=30)
                return self
            except urllib.error.HTTPError:
                return self
            except OSError:
                time.sleep(0.5)
        raise RuntimeError('horizon did not answer: %s' % self.read_log()[-2000:])

    def read_log(self):
        with open(self.log, errors='replace') as f:
            return f.read()

    def stop(self, keep=None):
        """Stop Horizon; with ``keep`` (a directory) copy its log there first."""
        end_process(self.proc)
        if keep and os.path.exists(self.log):
            shutil.copy(self.log, os.path.join(keep, 'horizon.log'))
        shutil.rmtree(self.dir, ignore_errors=True)
