"""The sandbox manifest: what a run is about to create and has created on one portal, kept on disk.

A manifest names the portal it belongs to (scheme, host, port and the webhook's user id; never a
code or token) and the run's title prefix, `b24c <run id> `. Before each set-up batch is sent,
the titles of everything it will create are written as *pending*; once the portal answers, the ids
replace them. So a run killed at any moment leaves a manifest that leads to every row it made:
by id, or by title for what was in flight. `target/cleanup.py` reads it back.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .config import Credential

KINDS = ("documents", "products", "stores")
VERSION = 2


def title_prefix(run_id: str) -> str:
    """Every row a run creates has a title or name starting with this."""
    return f"b24c {run_id} "


@dataclass(frozen=True, slots=True, kw_only=True)
class Origin:
    """Which portal, as a person would say it; never a secret."""

    scheme: str
    host: str
    port: int
    user_id: int | None

    @classmethod
    def of(cls, cred: Credential) -> Origin:
        parts = urlsplit(cred.base or "")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        return cls(scheme=parts.scheme, host=(parts.hostname or "").lower(), port=port, user_id=cred.user_id)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Origin:
        return cls(scheme=str(data["scheme"]), host=str(data["host"]), port=int(data["port"]),
                   user_id=data.get("user_id"))

    def to_dict(self) -> dict[str, Any]:
        return {"scheme": self.scheme, "host": self.host, "port": self.port, "user_id": self.user_id}

    def same_portal(self, other: Origin) -> bool:
        """The same portal: http and https of one host and port count as one (the reference portal
        serves both); a different host, port or webhook user does not."""
        return (self.host, self.port, self.user_id) == (other.host, other.port, other.user_id)

    def __str__(self) -> str:
        user = f" (webhook user {self.user_id})" if self.user_id is not None else ""
        return f"{self.scheme}://{self.host}:{self.port}{user}"


class Manifest:
    """A JSON file of everything the run is creating or created, rewritten atomically on each change."""

    def __init__(self, directory: Path, run_id: str, origin: Origin, *, durable: bool = True) -> None:
        """`durable=False`: kept in memory only, for a run whose rows cannot outlive it (a replay,
        where no portal exists): nothing is written, and nothing is left to clean up."""
        self.path = directory / f"sandbox-{run_id}.json"
        self.durable = durable
        self.data: dict[str, Any] = {
            "version": VERSION, "run_id": run_id, "origin": origin.to_dict(), "prefix": title_prefix(run_id),
            "iblock_id": None, **{k: [] for k in KINDS}, "pending": {k: [] for k in KINDS},
        }
        self._held = 0
        self._written: str | None = None
        if durable:
            directory.mkdir(parents=True, exist_ok=True)
        self._flush()

    def set_catalog(self, iblock_id: int) -> None:
        self.data["iblock_id"] = iblock_id
        self._flush()

    def intend(self, kind: str, titles: Iterable[str]) -> None:
        """Before a request that may create rows: their titles, so a kill cannot lose them."""
        pending = self.data["pending"][kind]
        pending.extend(t for t in titles if t not in pending)
        self._flush()

    def add(self, kind: str, ids: Iterable[int], *, titles: Iterable[str] = ()) -> None:
        """Rows the portal created, by id; their titles are no longer only pending."""
        self.data[kind].extend(i for i in ids if i not in self.data[kind])
        done = set(titles)
        self.data["pending"][kind] = [t for t in self.data["pending"][kind] if t not in done]
        self._flush()

    def remove(self, kind: str, ids: Iterable[int]) -> None:
        gone = set(ids)
        self.data[kind] = [i for i in self.data[kind] if i not in gone]
        self._flush()

    def settle(self, kind: str, titles: Iterable[str]) -> None:
        """Pending titles known not to exist (the request answered and created none of them)."""
        done = set(titles)
        self.data["pending"][kind] = [t for t in self.data["pending"][kind] if t not in done]
        self._flush()

    @property
    def empty(self) -> bool:
        return not any(self.data[k] or self.data["pending"][k] for k in KINDS)

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)
        self._written = None

    @contextmanager
    def hold(self) -> Iterator[None]:
        """Changes inside are written once, at the end (each write replaces the file, about a
        millisecond on a journalling file system). The sandbox holds the manifest only where no
        request is sent, or calls `flush` before sending: what is on disk is never behind a request
        in flight."""
        self._held += 1
        try:
            yield
        finally:
            self._held -= 1
            self.flush()

    def flush(self) -> None:
        """Write the manifest now if it changed since it was last written."""
        if self.durable:
            text = json.dumps(self.data, indent=1)
            if text != self._written:
                tmp = self.path.with_suffix(".tmp")
                tmp.write_text(text, encoding="utf-8")
                os.replace(tmp, self.path)
                self._written = text

    def _flush(self) -> None:
        if not self._held:
            self.flush()


def manifest_held(method):
    """A method of an object with a `manifest` whose manifest changes are written together, once
    (Manifest.hold); the method must flush it before any request it sends."""
    @functools.wraps(method)
    def held(self, *args, **kwargs):
        with self.manifest.hold():
            return method(self, *args, **kwargs)
    return held
