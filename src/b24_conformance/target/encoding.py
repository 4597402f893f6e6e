"""PHP-style parameter encoding (http_build_query), as Bitrix expects in forms, queries and batch."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import quote


def flatten(params: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    """Yield (`a[b][0]`, value) pairs; booleans become Y/N-free 1/0, None becomes empty."""
    for key, value in params.items():
        name = f"{prefix}[{key}]" if prefix else str(key)
        if isinstance(value, Mapping):
            yield from flatten(value, name)
        elif isinstance(value, (list, tuple)):
            yield from flatten({str(i): v for i, v in enumerate(value)}, name)
        elif isinstance(value, bool):
            yield name, "1" if value else "0"
        elif value is None:
            yield name, ""
        else:
            yield name, str(value)


def build_query(params: Mapping[str, Any]) -> str:
    """`http_build_query`: brackets kept readable, values percent-encoded."""
    return "&".join(f"{quote(k, safe='[]')}={quote(v, safe='')}" for k, v in flatten(params))


def build_multipart(params: Mapping[str, Any]) -> tuple[bytes, str]:
    """A multipart/form-data body and its content type."""
    pairs = list(flatten(params))
    # derived from the content, so the same request is the same bytes (cassettes match on body)
    boundary = "b24c" + hashlib.sha256(repr(pairs).encode()).hexdigest()[:24]
    parts = []
    for name, value in pairs:
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"
