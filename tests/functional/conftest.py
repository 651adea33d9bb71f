"""Functional fixtures: a running private stack shared by a test module."""
import pytest

from tests.functional.stack import Stack


@pytest.fixture(scope='module')
def stack():
    st = Stack()
    try:
        st.start()
        yield st
    finally:
        st.stop()


@pytest.fixture(scope='module')
def long_stack():
    """A stack whose builds may take ten minutes (faults and replicas wait long)."""
    st = Stack(usage_timeout=600)
    try:
        st.start()
        yield st
    finally:
        st.stop()
