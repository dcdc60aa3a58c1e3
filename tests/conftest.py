"""Fixtures for the tests in tests/ (the repository's conftest.py sets the environment for every pytest run)."""
import pytest


@pytest.fixture(scope="module")
def one_thread():
    """torch on one thread for a test module (``pytestmark = pytest.mark.usefixtures("one_thread")``): the exercises'
    checks run tiny models, and on a busy 2-core machine a second thread only waits (several times slower)."""
    from helpers.config import one_thread
    with one_thread():
        yield
