"""[DEFAULT] options of quotas and API rate limits (read by trove-api)."""
from oslo_config import cfg

opts = [
    cfg.IntOpt('max_instances_per_tenant', default=10,
               help='Default quota of instances per project; -1 is unlimited.'),
    cfg.IntOpt('max_ram_per_tenant', default=-1,
               help='Default quota of instance RAM (MB) per project; -1 is unlimited.'),
    cfg.IntOpt('max_volumes_per_tenant', default=40,
               help='Default quota of volume gigabytes per project; -1 is unlimited.'),
    cfg.IntOpt('max_backups_per_tenant', default=50,
               help='Default quota of backups per project; -1 is unlimited.'),
    cfg.IntOpt('http_get_rate', default=200, min=1,
               help='GET requests a project may make per minute (per API process).'),
    cfg.IntOpt('http_post_rate', default=200, min=1,
               help='POST requests a project may make per minute (per API process).'),
    cfg.IntOpt('http_put_rate', default=200, min=1,
               help='PUT and PATCH requests a project may make per minute '
                    '(per API process).'),
    cfg.IntOpt('http_delete_rate', default=200, min=1,
               help='DELETE requests a project may make per minute (per API process).'),
    cfg.IntOpt('http_mgmt_post_rate', default=200, min=1,
               help='POST requests to /mgmt a project may make per minute '
                    '(per API process).'),
    cfg.BoolOpt('noauth_trust_roles_header', default=False,
                help='On the noauth pipeline, take the roles of a request from '
                     'its X-Roles header instead of noauth_roles. Only for tests: '
                     'any caller can then claim any role.'),
]


def register_opts(conf):
    conf.register_opts(opts)
