"""Throwaway venvs for the real OpenStack services of the cloud stage.

Each service pins its own dependency versions, so each gets its own venv from
the package registry, cached under ``CACHE`` in a directory named by a hash of
its pinned requirements (a re-run with the same pins installs nothing). The
installs of a cold run go in parallel.
"""
import concurrent.futures
import hashlib
import os
import shutil
import subprocess
import sys

CACHE = os.environ.get('TROVE_TEST_OPENSTACK_VENVS', '/var/tmp/trove-openstack-venvs')

_DB = ('PyMySQL',)
# Nova 34 needs keystoneauth1 >= 5.16 but does not say so; neutron 29 imports
# pyroute2 without listing it in its metadata; the fake volume driver in
# cinder's wheel imports cinder.tests.unit, which needs fixtures.
REQUIREMENTS = {
    'keystone': ('keystone==30.0.0', 'gunicorn', *_DB),
    'placement': ('openstack-placement==16.0.0', 'gunicorn', *_DB),
    'glance': ('glance==33.0.0', 'gunicorn', *_DB),
    'nova': ('nova==34.0.0', 'keystoneauth1>=5.16', *_DB),
    'cinder': ('cinder==29.0.0', 'fixtures', *_DB),
    'neutron': ('neutron==29.0.0', 'pyroute2', *_DB),
}


class InstallError(Exception):
    pass


def venv_dir(service):
    """The cache directory of ``service``'s venv, keyed by its pins."""
    key = hashlib.sha256('\n'.join(REQUIREMENTS[service]).encode()).hexdigest()[:12]
    return os.path.join(CACHE, '%s-%s' % (service, key))


def _install(service):
    venv = venv_dir(service)
    if os.path.exists(os.path.join(venv, '.complete')):
        return venv
    shutil.rmtree(venv, ignore_errors=True)
    os.makedirs(CACHE, exist_ok=True)
    base = getattr(sys, '_base_executable', None) or 'python3'
    subprocess.run([base, '-m', 'venv', venv], check=True)
    res = subprocess.run([os.path.join(venv, 'bin', 'python'), '-m', 'pip', 'install',
                          '--quiet', *REQUIREMENTS[service]],
                         capture_output=True, text=True, timeout=1500)
    if res.returncode != 0:
        shutil.rmtree(venv, ignore_errors=True)
        raise InstallError('cannot install %s: %s'
                           % (' '.join(REQUIREMENTS[service]), (res.stderr or res.stdout)[-600:]))
    open(os.path.join(venv, '.complete'), 'w').close()
    return venv


def ensure_all(services=tuple(REQUIREMENTS)):
    """{service: venv directory}, installing the missing ones in parallel."""
    with concurrent.futures.ThreadPoolExecutor(len(services)) as pool:
        futures = {s: pool.submit(_install, s) for s in services}
        return {s: f.result() for s, f in futures.items()}


if __name__ == '__main__':
    print(ensure_all())
