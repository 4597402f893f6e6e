"""Schemathesis' pytest plugin, for the fuzz tests here only.

`pyproject.toml` turns the schemathesis and hypothesis plugins off (`-p no:schemathesis -p
no:hypothesispytest`): autoloaded, they import about a second of hypothesis into every pytest
process of the dev venv, fuzzing or not. This folder's `@schema.parametrize()` tests need
schemathesis' collection hooks, so the plugin is registered here, under a name of our own (the
entry point's name stays blocked), when pytest first collects this folder.
"""

import importlib

import pytest


def pytest_configure(config: pytest.Config) -> None:
    plugin = importlib.import_module("schemathesis.pytest.plugin")
    if not config.pluginmanager.is_registered(plugin):  # not already on (e.g. `-o addopts=`)
        config.pluginmanager.register(plugin, "b24-schemathesis")
