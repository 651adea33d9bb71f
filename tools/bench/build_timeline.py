"""Where the time of N concurrent builds goes, from the guests' own logs.

Read before the servers go: for every server of a local-driver stack, the
seconds from the first POST to the agent's first log line (its imports and
config done), to the start of prepare (the warm-up's install-db done and the
request arrived) and to the end of prepare.  Printed as min / median / max.
"""
import datetime
import glob
import os
import re
import statistics

# oslo.log's default line: "2026-12-04 18:27:42.206 20178 INFO module [...] text"
_LINE = re.compile(r'^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+) \d+ \w+ (\S+) ')
_MARKS = (('agent first log line', None),
          ('prepare started', 'Preparing '),
          ('prepare done', ' prepared in '))


def _epoch(stamp):
    # The agents log in the machine's local time, as time.time() counts.
    return datetime.datetime.strptime(stamp, '%Y-%m-%d %H:%M:%S.%f').timestamp()


def server_marks(path):
    """{mark: epoch seconds} of one guestagent.log (marks it has reached)."""
    found = {}
    with open(path, errors='replace') as f:
        for line in f:
            m = _LINE.match(line)
            if not m:
                continue
            for name, needle in _MARKS:
                if name not in found and (needle is None or needle in line):
                    found[name] = _epoch(m.group(1))
    return found


def collect(base_dir):
    """[{mark: epoch}] of every server under a local driver's base_dir."""
    pattern = os.path.join(base_dir, 'servers', '*', 'var', 'log', 'guestagent.log')
    return [server_marks(p) for p in sorted(glob.glob(pattern))]


def report(marks, first_post):
    """Lines: each mark's min / median / max seconds after ``first_post`` (epoch)."""
    lines = []
    for name, _ in _MARKS:
        secs = sorted(m[name] - first_post for m in marks if name in m)
        if secs:
            lines.append('   %-22s min %5.1f  median %5.1f  max %5.1f s  (%d servers)'
                         % (name, secs[0], statistics.median(secs), secs[-1], len(secs)))
    return lines
