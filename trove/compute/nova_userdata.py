"""cloud-init userdata that turns a plain image into a trove guest.

Nova's file injection (``personality``) is gone since microversion 2.57, so
the files the taskmanager injects travel as cloud-init ``write_files``
entries (base64, root-owned, not world readable: the guest config holds the
broker password).  The same document formats and mounts the data volume,
installs the guest agent into a venv unless the image ships it, and enables
its systemd unit.
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


def _install_cmd(package):
    venv = GUEST_VENV
    pkg = shlex.quote(package)
    return (f'test -x {venv}/bin/trove-guestagent || '
            f'(python3 -m venv {venv} && {venv}/bin/pip install --quiet {pkg})')


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
        files=entries, device=device, mount_point=mount_point, venv=GUEST_VENV,
        conf_dir=CONF_DIR, install_cmd=_install_cmd(CONF.guest_package))


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
