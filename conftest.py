"""Top-level pytest configuration for the project's own tests.

The b24-conformance plugin itself is loaded through its `pytest11` entry point (it needs nothing
from here); `pytester` runs nested pytest sessions for the plugin's own tests.

The tests' parse cache (`B24C_CACHE`) is a folder of the session's own, shared by its xdist
workers and the processes they start, and removed at the end: the tests neither read a cache
an earlier run left nor leave one in the user's home.
"""

import os
import shutil
import tempfile

pytest_plugins = ["pytester"]


def pytest_configure(config):
    if "B24C_CACHE" not in os.environ:
        config._b24c_cache = os.environ["B24C_CACHE"] = tempfile.mkdtemp(prefix="b24c-test-cache-")


def pytest_unconfigure(config):
    folder = getattr(config, "_b24c_cache", None)
    if folder:
        os.environ.pop("B24C_CACHE", None)
        shutil.rmtree(folder, ignore_errors=True)
