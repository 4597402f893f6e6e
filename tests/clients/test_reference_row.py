"""The reference row is exact: every clause's own request sent through `ReferenceAdapter` (and what
it hands its caller turned back into a reply) grades exactly as the engine's direct path does.

This is not the engine integration (that is the lead's): a stand-in for the engine's PortalClient
sends each clause's phase-"call" request through the adapter and rebuilds the Reply from the
adapter's Envelope (body, status) or ClientError (body, status). Set-up, observation and clean-up
stay on the real client. Every clause must PASS, as it does on the direct path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from b24_conformance.clients.base import ClientError, access_for
from b24_conformance.clients.reference import ReferenceAdapter
from b24_conformance.contract.clause import load_clauses
from b24_conformance.observation import Reply
from b24_conformance.portal.server import EmbeddedPortal
from b24_conformance.runner import Runner, RunOptions
from b24_conformance.target.client import PortalClient, Sent
from b24_conformance.target.reference import reference_settings, target_for
from b24_conformance.verdict import Outcome


class ThroughAdapter:
    """PortalClient, except that a clause's own requests go through the reference adapter."""

    def __init__(self, real: PortalClient, adapter: ReferenceAdapter) -> None:
        self.real = real
        self.adapter = adapter
        self.through = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def call(self, cred, method, params, *, transport="json", retry=True, local_address=None, pace=True,
             phase="call") -> Sent:
        if phase != "call":
            return self.real.call(cred, method, params, transport=transport, retry=retry,
                                  local_address=local_address, pace=pace, phase=phase)
        options = {"transport": transport} if transport != "json" else {}
        return self._sent(lambda: self.adapter.call(cred.role, method, params, retry=retry,
                                                    local_address=local_address, pace=pace, **options))

    def batch(self, cred, commands, *, halt=False, phase="call") -> Sent:
        if phase != "call":
            return self.real.batch(cred, commands, halt=halt, phase=phase)
        return self._sent(lambda: self.adapter.batch(cred.role, commands, halt))

    def _sent(self, thunk) -> Sent:
        self.through += 1
        try:
            got = thunk()
            reply = Reply(status=got.status, body=got.body)
        except ClientError as exc:
            reply = Reply(status=exc.status, body=exc.body)
        last = self.adapter.last
        assert last is not None
        return Sent(reply=reply, exchange=last.exchange, curl=last.curl)


def test_every_clause_passes_through_the_reference_adapter(tmp_path: Path) -> None:
    clauses = load_clauses()
    with EmbeddedPortal(reference_settings("seed")) as portal:
        config = target_for(portal)
        runner = Runner(config, RunOptions(profile="seed", manifest_dir=tmp_path))
        adapter = ReferenceAdapter(client=runner.engine.client)
        adapter.start(access_for(config))
        proxy = ThroughAdapter(runner.engine.client, adapter)
        runner.engine.client = proxy  # type: ignore[assignment]
        result = runner.run(clauses)
    bad = [(v.clause_id, v.outcome.value, v.reason) for v in result.verdicts if v.outcome is not Outcome.PASS]
    assert bad == []
    assert proxy.through >= len(clauses)  # every clause's request went through the adapter
