"""Subunit v2 on stdin -> one JSON object per test on stdout.

Runs with the tempest venv's python (python-subunit and testtools come
with stestr there); the project's venv never imports it.  Each line is
``{"id", "status", "seconds", "reason", "traceback"}``.
"""
import json
import sys

import subunit
import testtools


def _text(details, name):
    content = details.get(name)
    if content is None:
        return ''
    try:
        return content.as_text()
    except Exception:  # a binary attachment: not worth a crash
        return ''


def _emit(test):
    stamps = [t for t in test['timestamps'] if t is not None]
    seconds = (stamps[-1] - stamps[0]).total_seconds() if len(stamps) == 2 else None
    details = test['details']
    record = {'id': test['id'], 'status': test['status'], 'seconds': seconds,
              'reason': _text(details, 'reason'), 'traceback': _text(details, 'traceback')}
    sys.stdout.write(json.dumps(record) + '\n')


def main():
    stream = subunit.ByteStreamToStreamResult(sys.stdin.buffer, non_subunit_name='stdout')
    result = testtools.StreamToDict(_emit)
    result.startTestRun()
    try:
        stream.run(result)
    finally:
        result.stopTestRun()


if __name__ == '__main__':
    main()
