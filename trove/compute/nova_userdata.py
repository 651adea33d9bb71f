"""cloud-init userdata that turns a plain image into a trove guest.

Nova's file injection (``personality``) is gone since microversion 2.57, so
the files the taskmanager injects travel as cloud-init ``write_files``
entries (base64, root-owned, not world readable: the guest config holds the
broker password).  The same document formats and mounts the data volume,
links the image's guest agent (or, only when ``guest_package`` names one,
installs it into the venv) and enables the agent's one systemd unit,
etc/systemd/trove-guestagent.service, shipped in the image or in the wheel.
"""
import base64
import functools
import shlex
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

import jinja2

from trove.common import template
from trove.conf import CONF

TEMPLATE = 'cloudinit/guest.yaml.j2'
GUEST_VENV = '/opt/trove-guestagent'
CONF_DIR = '/etc/trove/conf.d'
MOUNT_POINT = '/var/lib/trove/volume'


@functools.lru_cache(maxsize=1)
def _env():
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(template.TEMPLATE_DIR),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True, lstrip_blocks=True,
        autoescape=False)  # renders YAML, not HTML


UNIT = 'trove-guestagent.service'
# Where the unit shipped in the wheel (setup.cfg data_files) lands in the venv.
VENV_UNIT = GUEST_VENV + '/share/trove/systemd/' + UNIT
# The unit runs /usr/local/bin/trove-guestagent; the link points it at the venv.
AGENT_LINK = '/usr/local/bin/trove-guestagent'


def _fallback(package):
    """Shell that installs the agent into the venv, or fails loudly without a package."""
    venv = GUEST_VENV
    if not package:
        return ('{ echo "trove-guestagent is missing from the image (%s) and '
                'guest_package is empty" >&2; exit 1; }' % venv)
    # python3-venv is fetched only when the image lacks it, never on every boot.
    apt = ('{ apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y '
           '--no-install-recommends python3-venv && python3 -m venv --clear %s; }' % venv)
    return (f'{{ python3 -m venv {venv} || {apt}; }} && '
            f'{venv}/bin/pip install --quiet {shlex.quote(package)}')


def _install_cmd(package):
    """Shell run once per instance: agent in the venv, its link and the shipped unit."""
    venv = GUEST_VENV
    return (f'set -e; test -x {venv}/bin/trove-guestagent || {_fallback(package)}; '
            f'ln -sfn {venv}/bin/trove-guestagent {AGENT_LINK}; '
            f'test -e /etc/systemd/system/{UNIT} || test -e /lib/systemd/system/{UNIT} || '
            f'install -m 0644 {VENV_UNIT} /etc/systemd/system/{UNIT}')


def render(files, device=None, mount_point=MOUNT_POINT):
    """The ``#cloud-config`` document for a guest.

    ``files`` maps absolute paths to text; ``device`` is the data volume's
    block device (``/dev/vdb``), or None for a guest without a volume.
    """
    entries = [{'path': path,
                'content': base64.b64encode(content.encode('utf-8')).decode('ascii'),
                'permissions': '0640'}
               for path, content in sorted((files or {}).items())]
    return _env().get_template(TEMPLATE).render(
        files=entries, device=device, mount_point=mount_point,
        install_cmd=_install_cmd(CONF.guest_package))


# cloud-init picks a part's handler from its MIME type.
_PART_TYPES = (('#!', 'x-shellscript'), ('#cloud-config', 'cloud-config'),
               ('#cloud-boothook', 'cloud-boothook'), ('#include', 'x-include-url'))


def combine(guest_config, userdata):
    """Our cloud-config plus caller ``userdata`` as one MIME multipart document.

    Returns ``guest_config`` unchanged when there is no extra userdata, so
    the common case stays a plain, readable ``#cloud-config``.
    """
    if not userdata:
        return guest_config
    message = MIMEMultipart()
    message.attach(MIMEText(guest_config, 'cloud-config', 'utf-8'))
    subtype = next((t for prefix, t in _PART_TYPES if userdata.startswith(prefix)),
                   'x-shellscript')
    message.attach(MIMEText(userdata, subtype, 'utf-8'))
    return message.as_string()
