"""Render the flavor-sized engine configuration from Jinja2 templates.

Templates live in ``trove/templates/<manager>/config.template`` and receive
``flavor_ram_mb``.  The taskmanager sends the rendered text to the guest in
``PrepareRequest.config_contents``; the API shows the same values as a dict
(GET /instances/{id}/configuration), parsed back from the rendered text so
the template stays the single source of truth.
"""
import functools
import os

import jinja2

TEMPLATE_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                            'templates')
CONFIG_TEMPLATE = 'config.template'
# Managers of one engine family share the family's templates, parameter
# rules and config option group.
FAMILIES = {'mysql': 'mariadb'}


def family(manager):
    """The engine family of a datastore manager (the manager itself if none)."""
    return FAMILIES.get(manager, manager)


@functools.lru_cache(maxsize=1)
def _env():
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False)  # renders config files, not HTML


def _template_name(manager):
    for name in (manager, FAMILIES.get(manager)):
        if name and os.path.isfile(os.path.join(TEMPLATE_DIR, name, CONFIG_TEMPLATE)):
            return '%s/%s' % (name, CONFIG_TEMPLATE)
    raise ValueError('No configuration template for datastore manager %r' % manager)


def render_config(manager: str, flavor_ram_mb: int) -> str:
    """Render the configuration for ``manager`` sized for ``flavor_ram_mb`` MB of RAM."""
    template = _env().get_template(_template_name(manager))
    return template.render(flavor_ram_mb=int(flavor_ram_mb))


def parse_config(text: str) -> dict:
    """Parse ``key = value`` (or redis-style ``key value``) lines of a config
    (sections are ignored).

    Integer values become ints; sizes such as ``512M`` stay strings.
    """
    values = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in '#;[':
            continue
        key, sep, value = line.partition('=')
        if not sep:
            # redis.conf style 'key value', or a bare flag such as skip-name-resolve.
            key, _, value = line.partition(' ')
            value = value.strip() or True
        key = key.strip()
        value = value.strip() if isinstance(value, str) else value
        if value is True:
            values[key] = True
            continue
        values[key] = int(value) if value.isdigit() else value
    return values


def config_values(manager: str, flavor_ram_mb: int) -> dict:
    """The rendered configuration of ``manager`` as an option -> value dict."""
    return parse_config(render_config(manager, flavor_ram_mb))
