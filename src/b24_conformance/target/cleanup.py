"""`b24-conformance cleanup`: remove what an interrupted run left behind, and nothing else.

Three rules keep a user's portal safe:
- a manifest is only acted on against the portal it names (host, port and webhook user), so a
  manifest of portal B is never replayed against portal C;
- a row is only touched after it was read back from the portal and its title (or name) starts
  with the run's prefix `b24c <run id> `; ids alone decide nothing, so an id that now belongs to
  someone else's row is left alone;
- documents go before the products and warehouses they stand on: conducted ones are cancelled
  (newest first, so an outflow is cancelled before the stock-up receipt it drew on), then every
  document is deleted, then products, then warehouses. What the portal refuses stays, with why.

`sweep` finds a run's rows by title alone, for when its manifest is lost.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .client import PortalClient, batch_parts
from .config import Credential
from .manifest import KINDS, Origin, title_prefix

MAX_BATCH = 50
ANY_RUN = re.compile(r"^b24c [0-9a-z]+ ")
LISTS = {  # kind -> (method, result key, title field, fields to read back)
    "documents": ("catalog.document.list", "documents", "title", ["id", "title", "status"]),
    "products": ("catalog.product.list", "products", "name", ["id", "name", "iblockId"]),
    "stores": ("catalog.store.list", "stores", "title", ["id", "title"]),
}
DELETE = {"documents": "catalog.document.delete", "products": "catalog.product.delete",
          "stores": "catalog.store.delete"}


@dataclass
class CleanupReport:
    """What one manifest (or one sweep) led to: removed ids per kind, and what was left, with why."""

    source: str
    removed: dict[str, list[int]] = field(default_factory=lambda: {k: [] for k in KINDS})
    left: list[tuple[str, str, str]] = field(default_factory=list)  # kind, id or title, why
    skipped: str = ""  # why nothing at all was touched

    def render(self) -> str:
        if self.skipped:
            return f"{self.source}: not touched: {self.skipped}"
        counts = ", ".join(f"{len(self.removed[k])} {k}" for k in KINDS)
        lines = [f"{self.source}: removed {counts}"]
        lines += [f"  left {kind[:-1]} {what}: {why}" for kind, what, why in self.left]
        return "\n".join(lines)


def cleanup_manifest(client: PortalClient, admin: Credential, path: Path) -> CleanupReport:
    """Remove the leftovers a manifest leads to, if it belongs to this portal; update or delete it."""
    report = CleanupReport(source=path.name)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        run_id = str(data["run_id"])
        written_for = Origin.from_dict(data["origin"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        report.skipped = (f"not a manifest this version can trust ({type(exc).__name__}); if it is an old one, "
                          "use `cleanup --sweep RUN_ID` against its portal")
        return report
    here = Origin.of(admin)
    if not written_for.same_portal(here):
        report.skipped = f"it was written for {written_for}, and this target is {here}"
        return report
    prefix = title_prefix(run_id)
    found = _clean(client, admin, lambda title: title.startswith(prefix), prefix, data.get("iblock_id"), report)
    for kind in KINDS:  # ids that are not (or no longer) this run's rows are never touched; forget them
        data[kind] = [i for i in data.get(kind, []) if i in found[kind] and i not in report.removed[kind]]
        data.setdefault("pending", {})[kind] = []  # every pending title was looked for by prefix
    if any(data[k] for k in KINDS):
        path.write_text(json.dumps(data, indent=1), encoding="utf-8")
    else:
        path.unlink()
    return report


def sweep(client: PortalClient, admin: Credential, run_id: str | None = None) -> CleanupReport:
    """Remove a run's rows (or every run's, with no run id) found by their titles alone."""
    report = CleanupReport(source=f"sweep of run {run_id}" if run_id else "sweep of every b24c run")
    if run_id:
        prefix = title_prefix(run_id)
        _clean(client, admin, lambda title: title.startswith(prefix), prefix, None, report)
    else:
        _clean(client, admin, lambda title: ANY_RUN.match(title) is not None, "b24c ", None, report)
    return report


def undo_unfinished(client: PortalClient, admin: Credential, run_id: str, iblock_id: int | None) -> CleanupReport:
    """Remove a run's documents and products (never its warehouses), found by title: what a set-up
    batch that got no answer may have made, so that the set-up can be sent again safely."""
    report = CleanupReport(source=f"undo of run {run_id}'s unanswered set-up")
    prefix = title_prefix(run_id)
    _clean(client, admin, lambda title: title.startswith(prefix), prefix, iblock_id, report,
           kinds=("documents", "products"))
    return report


def _clean(client: PortalClient, admin: Credential, ours, search: str, iblock_id: int | None,
           report: CleanupReport, kinds: tuple[str, ...] = KINDS) -> dict[str, set[int]]:
    """Find this run's rows by title, remove them in a safe order; returns the ids found per kind."""
    if iblock_id is None:
        iblock_id = _catalog(client, admin)
    rows = {kind: [r for r in _find(client, admin, kind, search, iblock_id) if ours(str(r.get(LISTS[kind][2]) or ""))]
            if kind in kinds else [] for kind in KINDS}
    found = {kind: {int(r["id"]) for r in rows[kind]} for kind in KINDS}
    conducted = sorted((int(r["id"]) for r in rows["documents"] if r.get("status") == "Y"), reverse=True)
    refused: dict[str, dict[int, str]] = {k: {} for k in KINDS}
    _each(client, admin, "catalog.document.cancel", conducted, refused["documents"])
    for kind in kinds:
        ids = sorted(found[kind], reverse=True)
        _each(client, admin, DELETE[kind], [i for i in ids if i not in refused[kind]], refused[kind])
        report.removed[kind] = [i for i in ids if i not in refused[kind]]
        report.left += [(kind, str(i), why) for i, why in sorted(refused[kind].items())]
    return found


def _catalog(client: PortalClient, admin: Credential) -> int | None:
    body = client.call(admin, "catalog.catalog.list", {}, phase="cleanup").reply.body
    catalogs = ((body or {}).get("result") or {}).get("catalogs") or [] if isinstance(body, dict) else []
    return int(catalogs[0].get("iblockId") or catalogs[0]["id"]) if catalogs else None


def _find(client: PortalClient, admin: Credential, kind: str, search: str, iblock_id: int | None) -> list[dict]:
    """Every row of `kind` whose title contains `search`, page by page, as the portal reads it back."""
    method, key, title, select = LISTS[kind]
    filters: dict[str, Any] = {f"%{title}": search}
    if kind == "products":
        if iblock_id is None:
            return []
        filters["iblockId"] = iblock_id
    rows: list[dict] = []
    start: int | None = 0
    while start is not None:
        body = client.call(admin, method, {"filter": filters, "select": select, "order": {"id": "ASC"},
                                           "start": start}, phase="cleanup").reply.body
        result = body.get("result") if isinstance(body, dict) else None
        page = result.get(key) if isinstance(result, dict) else None
        if not isinstance(page, list):
            break
        rows += [r for r in page if isinstance(r, dict) and "id" in r]
        nxt = body.get("next")
        start = int(nxt) if isinstance(nxt, int) and nxt > start else None
    return rows


def _each(client: PortalClient, admin: Credential, method: str, ids: Iterable[int], refused: dict[int, str]) -> None:
    """`method` for every id, in batches; the portal's refusals are recorded against their ids."""
    ids = list(ids)
    for start in range(0, len(ids), MAX_BATCH):
        chunk = ids[start:start + MAX_BATCH]
        sent = client.batch(admin, {f"k{i}": (method, {"id": i}) for i in chunk}, halt=False, phase="cleanup")
        results, errors = batch_parts(sent.reply.body)
        for i in chunk:
            err = errors.get(f"k{i}")
            if isinstance(err, dict):
                refused[i] = f"{method} was refused: {err.get('error')} {err.get('error_description')}".strip()
            elif results.get(f"k{i}") is not True:
                refused[i] = f"{method} answered {json.dumps(results.get(f'k{i}'))}, not true"
