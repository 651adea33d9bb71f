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


# A real Keystone (and Barbican behind it) per test module that asks for one,
# each in its throwaway venv.
@pytest.fixture(scope='module')
def keystone():
    from tests.functional.keystone_server import Keystone
    ks = Keystone()
    try:
        yield ks.start()
    finally:
        ks.stop()


@pytest.fixture(scope='module')
def barbican(keystone):
    from tests.functional.barbican_server import Barbican
    server = Barbican(keystone)
    try:
        yield server.start()
    finally:
        server.stop()



# A real Swift all-in-one (no auth middleware) per test module that asks for
# one; ``keystone_swift`` is one behind the module's Keystone, in its catalog.
@pytest.fixture(scope='module')
def swift():
    from tests.functional.swift_server import SwiftServer
    server = SwiftServer()
    try:
        yield server.start()
    finally:
        server.stop()


@pytest.fixture(scope='module')
def keystone_swift(keystone):
    from tests.functional.swift_server import SwiftServer
    server = SwiftServer(keystone)
    try:
        server.start()
        server.register()
        server.grant_reseller_admin()
        yield server
    finally:
        server.stop()
