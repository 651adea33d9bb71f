"""[mariadb] engine options for the mysql-family guest manager."""
from oslo_config import cfg

group = cfg.OptGroup('mariadb', title='MariaDB engine')

opts = [
    cfg.PortOpt('port', default=3306, help='Port the engine listens on.'),
    cfg.ListOpt('packages', default=['mariadb-server'],
                help='Debian packages installed when binaries are missing.'),
    cfg.StrOpt('root_controller_user', default='os_admin',
               help='Internal administrative user the agent manages the '
                    'engine with; hidden from users.'),
    cfg.ListOpt('ignore_users', default=['os_admin', 'os_repl', 'os_archive', 'root',
                                         'mariadb.sys'],
                help='Users never listed or touched through the API.'),
    cfg.ListOpt('ignore_dbs', default=['mysql', 'information_schema',
                                       'performance_schema', 'sys'],
                help='Databases never listed or touched through the API.'),
]


def register_opts(conf):
    conf.register_group(group)
    conf.register_opts(opts, group=group)
