"""A guest stand-in for servers that never boot (Nova's FakeDriver).

No VM runs behind a FakeDriver server, so nothing would read the userdata
Nova holds for it.  This process does what the guest's agent would do with
it on the RPC side only: it takes the config files out of the cloud-init
document (``write_files``), loads them as the agent does (``--config-dir``),
serves the guest's topic with the guest's sealing serializer and sends the
sealed heartbeats of trove.guestagent.heartbeat.Reporter.  Its engine is a
flag: ``prepare`` and ``start_db*`` set it running, ``stop_db`` clears it.
Nothing here runs a database.

    python -m tests.functional.cloud_guest USERDATA_FILE WORK_DIR [prepared]

``prepared`` starts it as an agent that comes back after its server was
rebooted: prepared before, it brings the engine up and reports at once.
"""
import base64
import email
import os
import sys
import threading

import oslo_messaging as messaging
import yaml

_UP = 'healthy'


def cloud_config(document):
    """The ``#cloud-config`` part of a userdata document (plain or MIME multipart)."""
    if document.startswith('#cloud-config'):
        return yaml.safe_load(document)
    message = email.message_from_string(document)
    for part in message.walk():
        if part.get_content_type() == 'text/cloud-config':
            return yaml.safe_load(part.get_payload(decode=True).decode('utf-8'))
    raise ValueError('no cloud-config part in the userdata')


def written_files(document):
    """{path: text} of the document's ``write_files``."""
    files = {}
    for entry in cloud_config(document).get('write_files') or ():
        content = entry['content']
        if entry.get('encoding') in ('b64', 'base64'):
            content = base64.b64decode(content).decode('utf-8')
        files[entry['path']] = content
    return files


class StandIn:
    """The RPC methods the taskmanager calls on a mariadb guest in these flows."""

    target = messaging.Target(version='1.10')

    def __init__(self, reporter, prepared=False):
        self.reporter = reporter
        self.running = threading.Event()
        self.prepared = prepared
        if prepared:
            self.running.set()
        self.calls = []

    def _record(self, name):
        self.calls.append(name)
        print('guest call %s' % name, flush=True)

    def beat(self):
        if self.prepared:  # an agent reports only once prepared
            self.reporter.send(_UP if self.running.is_set() else 'shutdown')

    def prepare(self, context, request):
        self._record('prepare')
        self.prepared = True
        self.running.set()
        self.beat()

    def get_status(self, context):
        self._record('get_status')
        return _UP if self.running.is_set() else 'shutdown'

    def stop_db(self, context, **kwargs):
        self._record('stop_db')
        self.running.clear()

    def start_db_with_conf_changes(self, context, config_contents):
        self._record('start_db_with_conf_changes')
        self.running.set()

    def restart(self, context):
        self._record('restart')
        self.running.set()


def main(userdata_file, work_dir, prepared=''):
    with open(userdata_file) as f:
        files = written_files(f.read())
    conf_dir = os.path.join(work_dir, 'conf.d')
    os.makedirs(conf_dir, exist_ok=True)
    for path, text in files.items():
        if path.endswith('.conf'):
            with open(os.path.join(conf_dir, os.path.basename(path)), 'w') as f:
                f.write(text)
    from trove.common import rpc_crypto
    from trove.common import service
    from trove.conf import CONF
    from trove.guestagent import heartbeat
    from trove.guestagent.rpcapi import guest_topic
    service.prepare_service(['cloud_guest', '--config-dir', conf_dir,
                             '--log-dir', work_dir], project='trove-guestagent',
                            binary='trove-guestagent')
    stand_in = StandIn(heartbeat.Reporter(), prepared=prepared == 'prepared')
    beat = service.Periodic(stand_in.beat, CONF.report_interval, 'heartbeat')
    service.serve(guest_topic(CONF.guest_id), CONF.guest_id, [stand_in], periodics=[beat],
                  serializer=rpc_crypto.guest_serializer())


if __name__ == '__main__':
    main(*sys.argv[1:4])
