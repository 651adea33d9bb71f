"""A stand-in change-log streamer for the shipper's tests (run as a script).

Writes the lines ``%08d\\n`` of one endless sequence into segment files
``seg-<n>`` of its spool, ``PER_SEGMENT`` lines each, one line every few
ms.  Like pg_receivewal it resumes by writing its newest segment again from
the start (the same bytes) and then goes on.
"""
import os
import sys
import time

PER_SEGMENT = 40
LINE = 9


def main(spool, pause):
    names = sorted(n for n in os.listdir(spool) if n.startswith('seg-'))
    segment = int(names[-1][4:]) if names else 0
    while True:
        path = os.path.join(spool, 'seg-%06d' % segment)
        mode = 'r+b' if os.path.exists(path) else 'wb'
        with open(path, mode) as f:
            for i in range(PER_SEGMENT):
                f.write(b'%08d\n' % (segment * PER_SEGMENT + i))
                f.flush()
                time.sleep(pause)
        segment += 1


if __name__ == '__main__':
    main(sys.argv[1], float(sys.argv[2]))
