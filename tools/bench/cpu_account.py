"""CPU seconds spent by this benchmark process and everything it starts.

The benchmark moves itself into a cgroup of its own (v1 ``cpuacct`` or v2),
so every process it starts (the stack's daemons, the guests the local driver
spawns, their engines, the short-lived tools they run) is counted, whatever
else the machine is doing: unlike wall time, the CPU a build costs does not
depend on the load beside it.  The shared RabbitMQ is not counted.

``breakdown()`` groups the CPU of the processes still alive by role; what
the exited ones (mariadb-install-db and its children, ...) cost is the rest.
"""
import os
import uuid

V1 = '/sys/fs/cgroup/cpuacct'
V2 = '/sys/fs/cgroup'
TICK = os.sysconf('SC_CLK_TCK')


class CpuMeter:
    """A cgroup holding this process; ``seconds()`` reads its usage."""

    def __init__(self):
        name = 'trove-bench-%s' % uuid.uuid4().hex[:8]
        self.path, self.v2 = None, False
        for base, v2 in ((V1, False), (V2, True)):
            path = os.path.join(base, name)
            probe = 'cpuacct.usage' if not v2 else 'cpu.stat'
            try:
                os.mkdir(path)
            except OSError:
                continue
            if os.path.exists(os.path.join(path, probe)):
                self.path, self.v2 = path, v2
                break
            os.rmdir(path)
        if self.path:
            with open(os.path.join(self.path, 'cgroup.procs'), 'w') as f:
                f.write(str(os.getpid()))

    @property
    def available(self):
        return self.path is not None

    def seconds(self):
        """CPU seconds used in the cgroup so far (None without one)."""
        if not self.path:
            return None
        if not self.v2:
            with open(os.path.join(self.path, 'cpuacct.usage')) as f:
                return int(f.read()) / 1e9
        with open(os.path.join(self.path, 'cpu.stat')) as f:
            stat = dict(line.split() for line in f)
        return int(stat['usage_usec']) / 1e6

    def pids(self):
        with open(os.path.join(self.path, 'cgroup.procs')) as f:
            return [int(p) for p in f.read().split()]

    def breakdown(self, classify):
        """{role: CPU seconds} of the live processes; ``classify(argv)`` names a role."""
        roles = {}
        for pid in self.pids():
            try:
                with open('/proc/%d/cmdline' % pid, 'rb') as f:
                    argv = [a.decode(errors='replace') for a in f.read().split(b'\0') if a]
                with open('/proc/%d/stat' % pid) as f:
                    fields = f.read().rsplit(')', 1)[1].split()
            except OSError:
                continue
            secs = (int(fields[11]) + int(fields[12])) / TICK
            role = classify(argv)
            roles[role] = roles.get(role, 0.0) + secs
        return roles

    def close(self):
        """Leave the cgroup (to its parent) and remove it once empty."""
        if not self.path:
            return
        parent = os.path.dirname(self.path)
        with open(os.path.join(parent, 'cgroup.procs'), 'w') as f:
            f.write(str(os.getpid()))
        try:
            os.rmdir(self.path)
        except OSError:
            pass  # still holds processes of ours that are ending
