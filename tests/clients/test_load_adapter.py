"""`load_adapter`: built-in names, a user's `package.module:factory`, and one line for each mistake."""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from b24_conformance.clients import ADAPTERS, load_adapter
from b24_conformance.clients.base import AdapterBase, ClientAdapter, Envelope, PortalAccess
from b24_conformance.errors import UsageError


class EchoAdapter(AdapterBase):
    """A user's adapter, as small as the protocol allows: it answers every call itself."""

    def __init__(self, *, greeting: str = "hi") -> None:
        super().__init__(name="echo", cannot={"form": "echo sends no forms"})
        self.greeting = greeting
        self.started_with: PortalAccess | None = None

    def start(self, access: PortalAccess) -> None:
        self.started_with = access

    def call(self, role: str, method: str, params: Mapping[str, Any]) -> Any:
        return Envelope({"result": [self.greeting, role, method, dict(params)]})


def make_echo(**options: Any) -> EchoAdapter:
    return EchoAdapter(**options)


class NotAnAdapter:
    name = "half"

    def start(self, access: PortalAccess) -> None:
        pass


@pytest.fixture
def user_module() -> Iterator[str]:
    """A module of the user's, importable by name for the duration of the test."""
    name = "b24c_test_user_adapters"
    module = types.ModuleType(name)
    module.EchoAdapter = EchoAdapter
    module.make_echo = make_echo
    module.NotAnAdapter = NotAnAdapter
    module.not_callable = 42
    module.helpers = types.SimpleNamespace(make=make_echo)
    sys.modules[name] = module
    yield name
    del sys.modules[name]


def message(excinfo: pytest.ExceptionInfo[UsageError]) -> tuple[str, str | None]:
    assert "\n" not in excinfo.value.message
    return excinfo.value.message, excinfo.value.hint


def test_every_built_in_name_loads() -> None:
    for name in ADAPTERS:
        adapter = load_adapter(name)
        assert isinstance(adapter, ClientAdapter)
        assert adapter.name == name


def test_a_user_factory_by_import_path(user_module: str) -> None:
    access = PortalAccess(origin="https://127.0.0.1:1", roles={})
    for spec in (f"{user_module}:make_echo", f"{user_module}:EchoAdapter", f"{user_module}:helpers.make"):
        adapter = load_adapter(spec, greeting="hello")
        assert isinstance(adapter, EchoAdapter) and adapter.greeting == "hello"
        adapter.start(access)
        assert adapter.started_with is access
        assert adapter.call("admin", "catalog.document.cancel", {"id": 1}).body == {
            "result": ["hello", "admin", "catalog.document.cancel", {"id": 1}]}
        assert adapter.cannot == {"form": "echo sends no forms"}


def test_this_test_module_itself_is_a_valid_path() -> None:
    adapter = load_adapter(f"{__name__}:make_echo")
    assert adapter.name == "echo"


def test_a_typo_of_a_built_in_name_suggests_it() -> None:
    with pytest.raises(UsageError) as caught:
        load_adapter("b24pysdk.typd")
    text, hint = message(caught)
    assert text == "unknown client adapter 'b24pysdk.typd'"
    assert hint is not None and hint.startswith("did you mean 'b24pysdk.typed'?")


def test_a_name_nothing_like_a_built_in_lists_them() -> None:
    with pytest.raises(UsageError) as caught:
        load_adapter("zzz")
    _, hint = message(caught)
    assert hint is not None and "did you mean" not in hint and "fast-bitrix24.raw" in hint


@pytest.mark.parametrize("spec", [":factory", "pkg.mod:", "pkg mod:f", "pkg.mod:f-g", "1pkg:f"])
def test_a_malformed_path(spec: str) -> None:
    with pytest.raises(UsageError) as caught:
        load_adapter(spec)
    text, hint = message(caught)
    assert text == f"not an adapter import path: {spec!r}" and hint == "expected package.module:factory"


def test_a_module_that_does_not_exist() -> None:
    with pytest.raises(UsageError) as caught:
        load_adapter("no_such_pkg_b24c.adapters:make")
    text, _ = message(caught)
    assert text == ("cannot import 'no_such_pkg_b24c.adapters' for adapter 'no_such_pkg_b24c.adapters:make': "
                    "no module named 'no_such_pkg_b24c'")


def test_a_module_whose_own_import_fails(tmp_path, monkeypatch) -> None:
    (tmp_path / "b24c_test_broken.py").write_text("import b24c_missing_dependency_xyz\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "b24c_test_broken", raising=False)
    with pytest.raises(UsageError) as caught:
        load_adapter("b24c_test_broken:make")
    sys.modules.pop("b24c_test_broken", None)
    text, hint = message(caught)
    assert text.startswith("importing 'b24c_test_broken' for adapter 'b24c_test_broken:make' failed: ")
    assert "b24c_missing_dependency_xyz" in text and hint is not None and "b24-conformance[clients]" in hint


def test_a_missing_attribute_suggests_the_nearest(user_module: str) -> None:
    with pytest.raises(UsageError) as caught:
        load_adapter(f"{user_module}:make_ecko")
    text, hint = message(caught)
    assert text == f"{user_module!r} has no attribute 'make_ecko' (adapter '{user_module}:make_ecko')"
    assert hint == "did you mean 'make_echo'?"


def test_something_that_is_not_callable(user_module: str) -> None:
    with pytest.raises(UsageError) as caught:
        load_adapter(f"{user_module}:not_callable")
    text, _ = message(caught)
    assert text == f"'{user_module}:not_callable' is not a factory: a int is not callable"


def test_an_object_that_does_not_satisfy_the_protocol(user_module: str) -> None:
    with pytest.raises(UsageError) as caught:
        load_adapter(f"{user_module}:NotAnAdapter")
    text, hint = message(caught)
    assert text == (f"'{user_module}:NotAnAdapter' made a NotAnAdapter, which is not a client adapter: "
                    "it lacks cannot, call, batch, stop")
    assert hint is not None and "b24_conformance.clients.base" in hint


def test_a_missing_client_library_gives_the_install_hint(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "b24pysdk", None)  # `import b24pysdk` now fails as if not installed
    monkeypatch.delitem(sys.modules, "b24_conformance.clients.b24pysdk", raising=False)
    with pytest.raises(UsageError) as caught:
        load_adapter("b24pysdk.typed")
    text, hint = message(caught)
    assert "b24pysdk" in text and hint == "pip install 'b24-conformance[clients]'"
