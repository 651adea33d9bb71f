"""Images of the local driver: what a local server runs.

On a cloud a datastore version's ``image_id`` names a Glance image whose
disk carries the engine and the guest agent.  A local server has no disk of
its own, so a local image names the same two things on this host:

* ``bin_dirs``: directories put first on the agent's PATH, where it finds
  the engine binaries (``mariadbd``, ``initdb``/``pg_ctl``,
  ``redis-server``); a second engine version installed under /opt is a
  second image;
* ``python``: the interpreter that runs the guest agent (optional).

The catalogue is ``<base_dir>/images.json``, a list of
``{"id", "name", "bin_dirs", "python"}`` objects (or ``{"images": [...]}``).
The built-in image ``local`` (the host's own binaries) is always there and
is what an empty image id means.  Creating or rebuilding a server on an
unknown image fails as Nova does, so an image id always means something.
"""
import json
import os

from trove.common import exception

DEFAULT_IMAGE = 'local'


def _builtin():
    return {DEFAULT_IMAGE: {'id': DEFAULT_IMAGE, 'name': 'host binaries', 'bin_dirs': [],
                            'python': None}}


def load_images(base_dir):
    """``{id: image}`` of the catalogue, the built-in image included."""
    images = _builtin()
    path = os.path.join(base_dir, 'images.json')
    if not os.path.exists(path):
        return images
    try:
        with open(path) as f:
            data = json.load(f)
        if isinstance(data, dict):
            data = data.get('images', [])
        for item in data:
            images[str(item['id'])] = {
                'id': str(item['id']), 'name': str(item.get('name') or item['id']),
                'bin_dirs': [str(d) for d in item.get('bin_dirs') or []],
                'python': item.get('python')}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise exception.ComputeError(detail='bad image file %s: %s' % (path, exc))
    return images


def find_image(base_dir, image_id):
    """The image ``image_id`` names (empty: the built-in one); ComputeError if unknown."""
    images = load_images(base_dir)
    image = images.get(image_id or DEFAULT_IMAGE)
    if image is None:
        raise exception.ComputeError(detail='image %s not found' % image_id)
    return image


def agent_environment(image, env):
    """``env`` with the image's binary directories first on PATH."""
    env = dict(env)
    if image['bin_dirs']:
        env['PATH'] = os.pathsep.join(image['bin_dirs'] + [env.get('PATH', os.defpath)])
    env['TROVE_IMAGE_ID'] = image['id']
    return env
