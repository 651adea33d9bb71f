"""[postgresql] engine options for the PostgreSQL guest manager."""
from oslo_config import cfg

group = cfg.OptGroup('postgresql', title='PostgreSQL engine')

opts = [
    cfg.PortOpt('port', default=5432, help='Port the engine listens on.'),
    cfg.ListOpt('packages', default=['postgresql'],
                help='Debian packages installed when binaries are missing.'),
    cfg.StrOpt('root_controller_user', default='os_admin',
               help='Internal superuser the agent manages the engine with '
                    '(peer login over the private unix socket only); hidden '
                    'from users.'),
    cfg.StrOpt('root_user', default='root',
               help='Superuser role that "root enable" creates or sets the password '
                    'of; upstream Trove and its tempest plugin log in as "root".'),
    cfg.ListOpt('ignore_users', default=['os_admin', 'os_repl', 'postgres', 'root'],
                help='Roles never listed or touched through the API (pg_* '
                     'roles are always hidden).'),
    cfg.ListOpt('ignore_dbs', default=['os_admin', 'postgres', 'template0', 'template1'],
                help='Databases never listed or touched through the API.'),
]


def register_opts(conf):
    conf.register_group(group)
    conf.register_opts(opts, group=group)
