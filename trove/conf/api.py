"""Options of the trove-api service."""
from oslo_config import cfg

opts = [
    cfg.HostAddressOpt('bind_host', default='0.0.0.0',
                       help='Address the API listens on.'),
    cfg.PortOpt('bind_port', default=8779, help='Port the API listens on.'),
    cfg.StrOpt('api_paste_config', default='api-paste.ini',
               help='PasteDeploy file; relative paths are looked up in the '
                    'config directories and etc/trove of the source tree.'),
    cfg.StrOpt('api_pipeline', default='trove-noauth',
               help='Name of the paste pipeline: trove-noauth for local use, '
                    'trove for keystonemiddleware authtoken.'),
    cfg.IntOpt('api_workers', default=8,
               help='Threads serving API requests.'),
    cfg.IntOpt('backlog', default=4096, min=1,
               help='Connections the kernel queues for the API before it accepts '
                    'them (listen backlog; capped by net.core.somaxconn).'),
    cfg.ListOpt('admin_roles', default=['admin'],
                help='Roles that make a request an admin request.'),
    cfg.StrOpt('public_endpoint',
               help='Scheme and host clients reach the API at (for example '
                    'https://db.example.com:8779), used in the "next" links of '
                    'lists; by default the scheme and host of each request.'),
    cfg.ListOpt('noauth_roles', default=['admin'],
                help='Roles given to every request on the noauth pipeline.'),
]


def register_opts(conf):
    conf.register_opts(opts)
