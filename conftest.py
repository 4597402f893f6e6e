"""Top-level pytest configuration for the project's own tests.

The b24-conformance plugin itself is loaded through its `pytest11` entry point (it needs nothing
from here); `pytester` runs nested pytest sessions for the plugin's own tests.
"""

pytest_plugins = ["pytester"]
