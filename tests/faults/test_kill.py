"""A live run killed at any moment leaves nothing that `cleanup` cannot find, and `cleanup` never
touches another portal's rows, even where their ids are the same."""

from __future__ import annotations

import json
import signal
import subprocess
import sys

import httpx
import pytest

from b24_conformance.cli import main

from .conftest import FaultyProxy, inspector, leftovers, live_portal, manifests, rows, target_file

CLI = [sys.executable, "-m", "b24_conformance.cli"]


def first(match: str, fault: str):
    """A plan: `fault` on the first request whose body contains `match`, and on no other."""
    done = []

    def plan(number: int, body: bytes) -> str | None:
        if not done and match.encode() in body:
            done.append(number)
            return fault
        return None
    return plan


KILL_POINTS = {
    # the first set-up batch ran on the portal, but the run dies before it learns any id
    "during set-up": first("catalog.document.add", "hold-after"),
    # a wave was built, called, observed and cleaned; the run dies before the next wave's set-up
    "between clauses": lambda n, body: "hold" if b"catalog.document.add" in body and n > 12 else None,
    # the first clean-up batch ran; the run dies before it hears which rows went
    "during clean-up": first("catalog.product.delete", "hold-after"),
}


def make_same_ids(portal, wanted: dict[str, list[int]]) -> None:
    """Create a customer's own rows on `portal` until every id in `wanted` exists there too."""
    admin = portal.webhook_url("admin")
    http = inspector()
    iblock = http.post(admin + "catalog.catalog.list", json={}).json()["result"]["catalogs"][0]["iblockId"]
    top = {kind: max(ids, default=0) for kind, ids in wanted.items()}
    n = 0
    while True:
        have = rows(portal)
        if all(max((r["id"] for r in have[k]), default=0) >= top[k] for k in top):
            return
        n += 1
        http.post(admin + "catalog.store.add", json={"fields": {"title": f"Customer warehouse {n}", "address": "x"}})
        http.post(admin + "catalog.product.add", json={"fields": {"iblockId": iblock, "name": f"Customer product {n}"}})
        http.post(admin + "catalog.document.add", json={"fields": {"docType": "S", "currency": "USD",
                                                                   "responsibleId": 1, "title": f"Customer doc {n}"}})


@pytest.mark.parametrize("point", sorted(KILL_POINTS))
def test_a_killed_run_is_cleaned_up_on_its_own_portal_only(tmp_path, point):
    manifest_dir = tmp_path / "manifests"
    with live_portal() as portal_a, live_portal(rate_threshold=0) as portal_b, \
            FaultyProxy(portal_a.base_url, KILL_POINTS[point]) as proxy:
        target_a = target_file(portal_a, tmp_path, via=proxy, name="a.yaml")
        run = subprocess.Popen([*CLI, "run", "--target", str(target_a), "--allow-writes", "-q",
                                "--manifest-dir", str(manifest_dir), "--reports", str(tmp_path / "r")],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            assert proxy.held.wait(60), f"the run never reached the kill point: {run.stderr.read1()[-400:]}"
        finally:
            run.send_signal(signal.SIGKILL)
            run.wait(30)
        proxy.release()
        left_a = leftovers(portal_a)
        assert any(left_a.values()), "killing the run left nothing to clean up"
        [written] = manifests(manifest_dir)
        ids = {k: written[k] for k in ("documents", "products", "stores")}

        # portal B has rows of its own with the very ids the manifest names
        make_same_ids(portal_b, {k: v or [1] for k, v in ids.items()})
        before_b = rows(portal_b)
        assert main(["cleanup", "--webhook", portal_b.webhook_url("admin"), "--manifest-dir", str(manifest_dir)]) == 0
        assert rows(portal_b) == before_b, "cleanup touched another portal"
        assert len(manifests(manifest_dir)) == 1, "cleanup forgot portal A's manifest"

        # a manifest claiming portal B's origin still cannot touch B's rows: their titles are not the run's
        forged = tmp_path / "forged"
        forged.mkdir()
        data = {**written, "origin": {"scheme": "http", "host": "127.0.0.1",
                                      "port": int(portal_b.base_url.rsplit(":", 1)[1]), "user_id": 1}}
        (forged / f"sandbox-{written['run_id']}.json").write_text(json.dumps(data))
        main(["cleanup", "--webhook", portal_b.webhook_url("admin"), "--manifest-dir", str(forged)])
        assert rows(portal_b) == before_b, "a forged manifest made cleanup touch rows by id"

        # against its own portal, cleanup removes every row the run made, even those it never learnt the id of
        assert main(["cleanup", "--target", str(target_a), "--manifest-dir", str(manifest_dir)]) == 0
        assert leftovers(portal_a) == {"documents": [], "stores": [], "products": []}
        assert manifests(manifest_dir) == []
        customer_docs = httpx.post(portal_a.webhook_url("admin") + "catalog.document.list",
                                   json={"filter": {"id": [142, 143]}}).json()["result"]["documents"]
        assert len(customer_docs) == 2  # the page's own example documents are still there
