"""etc/trove/*.conf.sample list every option as the code defines it today."""
import os
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GENERATOR = os.path.join(os.path.dirname(sys.executable), 'oslo-config-generator')


@pytest.mark.parametrize('name', ['trove', 'trove-guestagent'])
def test_sample_is_current(tmp_path, name):
    out = tmp_path / ('%s.conf.sample' % name)
    subprocess.run([GENERATOR, '--config-file',
                    os.path.join(REPO, 'etc', 'trove', '%s-config-generator.conf' % name),
                    '--output-file', str(out)], check=True, cwd=REPO, timeout=120)
    with open(os.path.join(REPO, 'etc', 'trove', '%s.conf.sample' % name)) as f:
        committed = f.read()
    assert out.read_text() == committed, (
        'regenerate with: for f in etc/trove/*-config-generator.conf; do '
        'oslo-config-generator --config-file $f; done')
