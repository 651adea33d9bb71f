"""The tempest venv: pinned tempest + plugins, outside the project's venv.

Tempest and the plugins pin their own dependencies (SQLAlchemy, oslo.*), so
like Keystone in tests/functional/keystone_server.py they live in a venv of
their own, cached under /tmp and keyed by the pinned versions.
"""
import os
import shutil
import subprocess
import sys

REQUIREMENTS = ('tempest==47.0.0', 'trove-tempest-plugin==2.8.0',
                # The SSL classes use the secret_v1 clients it registers.
                'barbican-tempest-plugin==4.6.0')


def _default_path():
    key = '-'.join(r.split('==')[1] for r in REQUIREMENTS)
    return '/tmp/trove-tempest-venv-%s' % key


VENV = os.environ.get('TROVE_TEMPEST_VENV') or _default_path()


class VenvError(RuntimeError):
    """The venv could not be created (no registry access, build failure)."""


def bin_path(name):
    return os.path.join(VENV, 'bin', name)


def ensure():
    """Path of the venv, creating it on first use (a partial one is redone)."""
    marker = os.path.join(VENV, '.complete')
    if os.path.exists(marker):
        return VENV
    shutil.rmtree(VENV, ignore_errors=True)
    base = getattr(sys, '_base_executable', None) or 'python3'
    subprocess.run([base, '-m', 'venv', VENV], check=True)
    res = subprocess.run([bin_path('python'), '-m', 'pip', 'install', '--quiet',
                          '--disable-pip-version-check', *REQUIREMENTS],
                         capture_output=True, text=True, timeout=1800)
    if res.returncode != 0:
        shutil.rmtree(VENV, ignore_errors=True)
        raise VenvError('cannot install %s: %s'
                        % (' '.join(REQUIREMENTS), (res.stderr or res.stdout)[-800:]))
    with open(marker, 'w') as f:
        f.write('\n'.join(REQUIREMENTS) + '\n')
    return VENV
