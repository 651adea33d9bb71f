"""trove-manage: database schema and datastore registration."""
import sys

from oslo_config import cfg

from trove.common import service
from trove.conf import CONF


def do_db_sync():
    from trove.db import migrate
    migrate.upgrade()
    print('Database is at revision %s' % migrate.current_revision())


def do_datastore_update():
    from trove.db import datastores
    datastores.datastore_update(CONF.command.datastore_name, CONF.command.default_version)
    print('Datastore \'%s\' updated.' % CONF.command.datastore_name)


def do_datastore_version_update():
    from trove.db import datastores
    c = CONF.command
    datastores.version_update(c.datastore_name, c.version_name, c.manager,
                              image_id=c.image_id, packages=c.packages,
                              active=bool(int(c.active)), version=c.version,
                              image_tags=c.image_tags, registry_ext=c.registry_ext,
                              repl_strategy=c.repl_strategy)
    print('Datastore version \'%s\' updated.' % c.version_name)
    from trove.db import configurations
    rules = configurations.rules_path(c.manager)
    if rules:
        _load_parameters(c.datastore_name, c.version_name, rules)


def _load_parameters(datastore_name, version_name, path):
    from trove.db import configurations, datastores
    ds = datastores.get_datastore(datastore_name)
    version = datastores.get_version(ds.id, version_name)
    count = configurations.load_parameters_file(version.id, path)
    print('Loaded %d configuration parameters for %s %s.' % (count, ds.name, version.name))


def do_db_load_datastore_config_parameters():
    c = CONF.command
    _load_parameters(c.datastore_name, c.version_name, c.config_file_location)


def do_spares_delete():
    """Power off every spare server of the compute driver (drains the pools)."""
    from trove import compute
    from trove.taskmanager import spares
    print('Deleted %d spare server(s).' % spares.drain(compute.get_driver()))


def _add_parsers(subparsers):
    p = subparsers.add_parser('db_sync', help='Create or upgrade the schema.')
    p.set_defaults(func=do_db_sync)
    p = subparsers.add_parser('datastore_update', help='Add or update a datastore.')
    p.add_argument('datastore_name')
    p.add_argument('default_version', nargs='?', default=None,
                   help='Name of the default version; "" clears it.')
    p.set_defaults(func=do_datastore_update)
    p = subparsers.add_parser('datastore_version_update',
                              help='Add or update a datastore version.')
    for name in ('datastore_name', 'version_name', 'manager', 'image_id', 'packages',
                 'active'):
        p.add_argument(name)
    p.add_argument('--image-tags', dest='image_tags', default=None)
    p.add_argument('--version', dest='version', default=None)
    p.add_argument('--registry-ext', dest='registry_ext', default='')
    p.add_argument('--repl-strategy', dest='repl_strategy', default='')
    p.set_defaults(func=do_datastore_version_update)
    p = subparsers.add_parser('db_load_datastore_config_parameters',
                              help='Load the configuration parameter catalogue of a '
                                   'datastore version from a validation-rules JSON file.')
    # datastore_version would clash with the guest option of that name.
    for name in ('datastore_name', 'version_name', 'config_file_location'):
        p.add_argument(name)
    p.set_defaults(func=do_db_load_datastore_config_parameters)
    p = subparsers.add_parser('spares_delete',
                              help='Power off all spare servers; a running '
                                   'taskmanager starts the configured number again.')
    p.set_defaults(func=do_spares_delete)


def main():
    CONF.register_cli_opt(cfg.SubCommandOpt('command', handler=_add_parsers))
    service.prepare_service(sys.argv, binary='trove-manage')
    try:
        CONF.command.func()
    except Exception as exc:
        sys.exit('trove-manage: %s' % getattr(exc, 'msg', exc))


if __name__ == '__main__':
    main()
