"""Fixtures for the tests in tests/ (the repository's conftest.py sets the environment for every pytest run).

The unit tests run the course's models in float32 unless a test asks for bfloat16 (``helpers.config.using_precision``):
their expected values are computed by hand in float32, and they must give the same verdicts on every machine, with or
without bfloat16 hardware. The notebooks (nbval) run in the course's own precision.
"""
import os

import pytest

os.environ.setdefault("GAN_COURSE_PRECISION", "fp32")


@pytest.fixture(scope="module")
def one_thread():
    """torch on one thread for a test module (``pytestmark = pytest.mark.usefixtures("one_thread")``): the exercises'
    checks run tiny models, and on a busy 2-core machine a second thread only waits (several times slower)."""
    from helpers.config import one_thread
    with one_thread():
        yield
