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
