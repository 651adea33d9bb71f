"""Per-instance serialisation of taskmanager flows."""
import threading
import time

from trove.common import locks


def test_same_instance_runs_one_after_the_other():
    order = []

    def flow(name, hold):
        with locks.instance_lock('i1'):
            order.append(name + '-start')
            time.sleep(hold)
            order.append(name + '-end')

    first = threading.Thread(target=flow, args=('create', 0.2))
    first.start()
    time.sleep(0.05)
    flow('delete', 0)
    first.join()
    assert order == ['create-start', 'create-end', 'delete-start', 'delete-end']
    assert locks._LOCKS == {}


def test_other_instances_do_not_wait():
    held = threading.Event()
    release = threading.Event()

    def hold():
        with locks.instance_lock('a'):
            held.set()
            release.wait(5)

    t = threading.Thread(target=hold)
    t.start()
    held.wait(5)
    started = time.monotonic()
    with locks.instance_lock('b'):
        pass
    assert time.monotonic() - started < 0.5
    release.set()
    t.join()
