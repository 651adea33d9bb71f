"""Write ACTIVE/HEALTHY instance rows straight into a stack's database.

    python tools/bench/fill_instances.py TROVE_CONF TENANT COUNT [--keys]

For benchmarks of the control plane without engines.  Prints a JSON map of
instance id to its plain RPC key (``--keys``: each row gets a key encrypted
with the master key, as the API makes them) or to null.
"""
import json
import sys

from trove.conf import CONF


def main():
    conf, tenant, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    CONF(['--config-file', conf], project='trove')
    from cryptography.fernet import Fernet

    from trove.common import rpc_crypto, states
    from trove.db import api, datastores, models
    from trove.db.session import writer
    _ds, version = datastores.resolve('mariadb', None)
    master = rpc_crypto.master_fernet()
    keys = {}
    with writer() as session:
        for i in range(count):
            iid = api.new_id()
            key = Fernet.generate_key() if '--keys' in sys.argv else None
            keys[iid] = key.decode() if key else None
            session.add(models.Instance(
                id=iid, name='bench-%05d' % i, tenant_id=tenant, flavor_id='2',
                volume_size=1, datastore_version_id=version.id,
                task_id=states.InstanceTask.NONE.code,
                task_description=states.InstanceTask.NONE.db_text, server_status='ACTIVE',
                hostname='127.9.%d.%d' % (i // 250 % 250, i % 250 + 1), region_id=CONF.region,
                encrypted_key=master.encrypt(key).decode() if key else None))
            session.add(models.ServiceStatusRow(
                id=api.new_id(), instance_id=iid,
                status_id=states.ServiceStatus.HEALTHY.code,
                status_description=states.ServiceStatus.HEALTHY.description))
    json.dump(keys, sys.stdout)


if __name__ == '__main__':
    main()
