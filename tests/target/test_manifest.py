"""The sandbox manifest: written before a request that may create rows, held writes, replays in memory."""

import json
from dataclasses import replace
from pathlib import Path

from b24_conformance.contract.clause import load_clauses
from b24_conformance.portal.server import EmbeddedPortal
from b24_conformance.portal.settings import PortalSettings
from b24_conformance.redact import Redactor
from b24_conformance.target import manifest as manifest_module
from b24_conformance.target.client import PortalClient
from b24_conformance.target.config import single_webhook_target
from b24_conformance.target.manifest import Manifest, Origin
from b24_conformance.target.sandbox import Sandbox

ORIGIN = Origin(scheme="https", host="portal.example", port=443, user_id=1)


def _writes(monkeypatch) -> list[str]:
    """The text of every manifest file written (each write replaces the file)."""
    written: list[str] = []
    real = manifest_module.os.replace

    def replace(src, dst):
        written.append(Path(src).read_text("utf-8"))
        real(src, dst)

    monkeypatch.setattr(manifest_module.os, "replace", replace)
    return written


def test_held_changes_are_written_once_and_an_unchanged_manifest_is_not_rewritten(tmp_path, monkeypatch):
    written = _writes(monkeypatch)
    manifest = Manifest(tmp_path, "r1", ORIGIN)
    assert len(written) == 1
    with manifest.hold():
        manifest.intend("products", ["b24c r1 p1"])
        manifest.intend("documents", ["b24c r1 doc"])
        assert len(written) == 1, "a held change was written before the hold ended"
    assert len(written) == 2
    on_disk = json.loads((tmp_path / "sandbox-r1.json").read_text("utf-8"))
    assert on_disk["pending"] == {"documents": ["b24c r1 doc"], "products": ["b24c r1 p1"], "stores": []}
    manifest.settle("stores", ["nothing pending"])  # no change
    assert len(written) == 2
    with manifest.hold():
        manifest.add("documents", [7], titles=["b24c r1 doc"])
        manifest.flush()  # what a request sent inside a hold needs first
        assert json.loads(written[-1])["documents"] == [7]
    assert len(written) == 3


def test_a_replay_keeps_its_manifest_in_memory(tmp_path, monkeypatch):
    written = _writes(monkeypatch)
    manifest = Manifest(tmp_path / "m", "r2", ORIGIN, durable=False)
    manifest.intend("documents", ["b24c r2 doc"])
    manifest.add("documents", [3], titles=["b24c r2 doc"])
    manifest.discard()
    assert written == [] and not (tmp_path / "m").exists()
    assert manifest.data["documents"] == [3]


def test_the_set_up_batch_leaves_after_its_titles_are_on_disk(tmp_path):
    """A held manifest is flushed before the set-up batch goes out: a run killed while it is in
    flight leaves every title it may create (read from disk at the moment the batch is sent)."""
    clause = next(c for c in load_clauses() if c.id == "cancel-list.all-conducted.succeeds")
    with EmbeddedPortal(PortalSettings(tls=False)) as portal:
        config = replace(single_webhook_target(portal.webhook_url("admin")),
                         fixtures={"supplier_contact_id": portal.fixtures["supplier_contact_id"]})
        client = PortalClient(config, Redactor())
        sandbox = Sandbox(client, config, "held01", tmp_path)
        sandbox.open()
        seen: list[dict] = []
        batch = client.batch

        def spy(cred, commands, **kw):
            if kw.get("phase") == "setup":
                seen.append(json.loads((tmp_path / "sandbox-held01.json").read_text("utf-8")))
            return batch(cred, commands, **kw)

        client.batch = spy
        world = sandbox.prepare([clause])[clause.id]
        after = json.loads((tmp_path / "sandbox-held01.json").read_text("utf-8"))
        sandbox.cleanup(world)
        sandbox.close()
        client.close()
    [before] = seen
    docs = world.documents.values()
    assert {t for s in docs for t in (s.title, s.stock_title) if t} <= set(before["pending"]["documents"])
    assert set(world.product_names.values()) <= set(before["pending"]["products"])
    assert sorted(after["documents"]) == sorted(i for s in docs for i in (s.id, s.stock_id) if i)
    assert after["pending"]["documents"] == [] and after["pending"]["products"] == []
