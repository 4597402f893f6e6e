"""Client adapters: real Bitrix24 client libraries driven through the clauses (see `base.py`).

`ADAPTERS` maps each built-in row name to a factory (a callable returning a fresh adapter);
`load_adapter(spec)` takes either such a name, a user's `package.module:factory` import path, or
`harness:NAME` for a client harness over stdin/stdout (`harness.py`, any language).
The client libraries are optional: `pip install 'b24-conformance[clients]'` brings them in, and a
built-in adapter whose library is missing fails with that hint when it is made, not on import.
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Callable
from typing import Any

from ..errors import UsageError
from .base import ClientAdapter

INSTALL_HINT = "pip install 'b24-conformance[clients]'"
_B24PYSDK = ("b24pysdk", "requests")
_FAST_BITRIX24 = ("fast_bitrix24", "aiohttp", "icontract", "beartype")


def _lazy(module: str, attr: str, *, needs: tuple[str, ...] = ()) -> Callable[..., ClientAdapter]:
    """A factory that imports its module only when called, so a missing library fails with the hint."""

    def factory(**options: Any) -> ClientAdapter:
        try:
            mod = importlib.import_module(f"{__name__}.{module}")
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.split(".")[0] in needs:
                raise UsageError(f"the {needs[0]} client library is not installed (no module {exc.name!r})",
                                 hint=INSTALL_HINT) from None
            raise
        return getattr(mod, attr)(**options)

    factory.__name__ = attr
    factory.__qualname__ = attr
    return factory


ADAPTERS: dict[str, Callable[..., ClientAdapter]] = {
    "reference": _lazy("reference", "reference"),
    "b24pysdk.typed": _lazy("b24pysdk", "typed", needs=_B24PYSDK),
    "b24pysdk.call_method": _lazy("b24pysdk", "call_method", needs=_B24PYSDK),
    "fast-bitrix24.raw": _lazy("fast_bitrix24", "raw", needs=_FAST_BITRIX24),
    "fast-bitrix24.call": _lazy("fast_bitrix24", "call", needs=_FAST_BITRIX24),
}


def load_adapter(spec: str, **options: Any) -> ClientAdapter:
    """A fresh adapter: a built-in name from `ADAPTERS`, or `package.module:factory`, where `factory`
    is a class or function returning an object that satisfies `ClientAdapter`. Every mistake is one
    UsageError line (with a hint)."""
    spec = spec.strip()
    if spec.startswith("harness:"):  # a client in any language, behind a stdin/stdout harness
        from .harness import HarnessAdapter

        return _checked(HarnessAdapter(spec, **options), spec)
    if ":" not in spec:
        if spec in ADAPTERS:
            return _checked(ADAPTERS[spec](**options), spec)
        close = difflib.get_close_matches(spec, list(ADAPTERS), n=1, cutoff=0.5)
        hint = (f"did you mean {close[0]!r}? " if close else "") + \
            f"built-in adapters: {', '.join(ADAPTERS)}; or give package.module:factory"
        raise UsageError(f"unknown client adapter {spec!r}", hint=hint)
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr or not all(part.isidentifier() for part in module_name.split(".")) \
            or not all(part.isidentifier() for part in attr.split(".")):
        raise UsageError(f"not an adapter import path: {spec!r}", hint="expected package.module:factory")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):  # the module itself (or its package) is missing
            raise UsageError(f"cannot import {module_name!r} for adapter {spec!r}: no module named {exc.name!r}",
                             hint="is the package installed in this environment, and the path spelt right?") from None
        raise UsageError(f"importing {module_name!r} for adapter {spec!r} failed: {exc}",
                         hint=f"a library it needs is missing; for the built-in clients: {INSTALL_HINT}") from None
    except ImportError as exc:
        raise UsageError(f"importing {module_name!r} for adapter {spec!r} failed: {exc}") from None
    target: Any = module
    for part in attr.split("."):
        if not hasattr(target, part):
            names = [n for n in dir(target) if not n.startswith("_")]
            close = difflib.get_close_matches(part, names, n=1)
            raise UsageError(f"{module_name!r} has no attribute {attr!r} (adapter {spec!r})",
                             hint=f"did you mean {close[0]!r}?" if close else None)
        target = getattr(target, part)
    if not callable(target):
        raise UsageError(f"{spec!r} is not a factory: a {type(target).__name__} is not callable",
                         hint="point at a class or a function that returns an adapter")
    return _checked(target(**options), spec)


def _checked(adapter: Any, spec: str) -> ClientAdapter:
    if isinstance(adapter, ClientAdapter):
        return adapter
    members = ("name", "cannot", "start", "call", "batch", "stop")
    missing = [m for m in members if not hasattr(adapter, m)]
    not_callable = [m for m in ("start", "call", "batch", "stop") if hasattr(adapter, m)
                    and not callable(getattr(adapter, m))]
    what = (f"it lacks {', '.join(missing)}" if missing
            else f"{', '.join(not_callable)} is not callable" if not_callable else "it does not match")
    raise UsageError(f"{spec!r} made a {type(adapter).__name__}, which is not a client adapter: {what}",
                     hint="an adapter has name, cannot, start(access), call(role, method, params), "
                          "batch(role, commands, halt) and stop(); see b24_conformance.clients.base")


__all__ = ["ADAPTERS", "INSTALL_HINT", "load_adapter"]
