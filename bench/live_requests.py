"""Requests and wall time of one full live run, against a reference portal at the documented rate.

    .venv/bin/python bench/live_requests.py [--runs 2]

The portal plays a live one: plain HTTP, the documented leaky bucket (50 requests, then 2 per
second), every role of the clauses configured through a target config, `--allow-writes`, no
`--allow-burst` (the rate-limit probe is opt-in on live portals). The same clause set is run two
ways, side by side in one process, each against a fresh portal:
- shared: clauses in waves that share set-up and observation batches (the default);
- per clause: one set-up batch and one observation batch per clause (how the suite ran before).
Printed per way: requests in all and by phase (run, set-up, clause, observation, clean-up), the
client's wait on its own pacer, and the wall time; then the ratio of the two. `--runs 2` also runs
the shared way twice back to back on one portal, as CI would on a busy staging portal.

Then, per clause file's method, the requests of a live run of that method's
clauses alone (the way a user gating one method runs it), by phase, against an unpaced portal
(the pacing changes the wall time, not the requests), and the sum against the full run's total:
what sharing batches across methods saves.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import yaml

from b24_conformance.contract.clause import load_clauses
from b24_conformance.portal.server import EmbeddedPortal
from b24_conformance.portal.settings import PortalSettings
from b24_conformance.runner import Runner, RunOptions
from b24_conformance.target.config import known_roles, load_target_config
from b24_conformance.verdict import RunResult

PHASES = ("run", "setup", "call", "observe", "cleanup")
BURST = 50


@dataclass
class Measured:
    label: str
    result: RunResult
    phases: Counter
    waited_s: float
    wall_s: float


def target_config(portal: EmbeddedPortal, directory: Path) -> Path:
    credentials = {}
    for cred in portal.credentials:
        if cred.label not in known_roles():
            continue
        if cred.kind == "webhook":
            credentials[cred.label] = {"webhook": portal.webhook_url(cred.label)}
        else:
            credentials[cred.label] = {"oauth_endpoint": portal.base_url + "/rest/", "token": cred.secret}
    path = directory / "target.yaml"
    path.write_text(yaml.safe_dump({"kind": "live", "name": "bench", "credentials": credentials,
                                    "fixtures": dict(portal.fixtures),
                                    "rate": {"threshold": BURST, "drain_per_s": 2.0}}), encoding="utf-8")
    return path


def run_once(label: str, path: Path, manifests: Path, share: bool, clauses=None) -> Measured:
    config = load_target_config(path)
    runner = Runner(config, RunOptions(allow_writes=True, manifest_dir=manifests, share_batches=share))
    started = time.perf_counter()
    result = runner.run(clauses if clauses is not None else load_clauses())
    wall = time.perf_counter() - started
    phases = Counter(e.phase for e in runner.engine.client.exchanges)
    return Measured(label, result, phases, runner.engine.client.bucket.waited_s, wall)


def show(m: Measured) -> str:
    counts = m.result.counts()
    by_phase = "  ".join(f"{p} {m.phases.get(p, 0):>3}" for p in PHASES)
    verdicts = ", ".join(f"{n} {o}" for o, n in counts.items() if n)
    fits = "fits" if m.result.request_count <= BURST else "exceeds"
    return (f"{m.label:24} {m.result.request_count:>4} requests ({fits} the {BURST}-request burst)  {by_phase}\n"
            f"{'':24} paced {m.waited_s:5.1f} s, wall {m.wall_s:5.1f} s · {verdicts}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2, help="shared runs back to back on one portal (default 2)")
    parser.add_argument("--no-per-method", action="store_true", help="skip the per-method runs")
    args = parser.parse_args()
    settings = PortalSettings(tls=False, rate_threshold=BURST, rate_drain_per_s=2.0)
    rows: list[Measured] = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        with EmbeddedPortal(settings) as portal:
            path = target_config(portal, tmp_path)
            rows.append(run_once("per clause (before)", path, tmp_path, share=False))
        with EmbeddedPortal(settings) as portal:
            path = target_config(portal, tmp_path)
            for n in range(args.runs):
                rows.append(run_once(f"shared, run {n + 1}", path, tmp_path, share=True))
    print(f"one full live run, {len(load_clauses())} clauses, every role configured, documented rate "
          f"({BURST} then 2/s), no --allow-burst")
    for m in rows:
        print(show(m))
    before, after = rows[0], rows[1]
    print(f"requests shared/per-clause: {after.result.request_count / before.result.request_count:.2f}; "
          f"wall shared/per-clause: {after.wall_s / before.wall_s:.2f}")
    if not args.no_per_method:
        per_method(after)


def per_method(full: Measured) -> None:
    clauses = load_clauses()
    methods = sorted({c.file_method for c in clauses})
    unpaced = PortalSettings(tls=False, rate_threshold=100_000, rate_drain_per_s=100_000.0)
    print(f"\nper method: a live run of one method's clauses alone (shared batches, unpaced portal; "
          f"requests by phase: {', '.join(PHASES)})")
    total = 0
    with tempfile.TemporaryDirectory() as tmp, EmbeddedPortal(unpaced) as portal:
        path = target_config(portal, Path(tmp))
        for method in methods:
            chosen = [c for c in clauses if c.file_method == method]
            m = run_once(method, path, Path(tmp), share=True, clauses=chosen)
            total += m.result.request_count
            passed = m.result.counts().get("PASS", 0)
            phases = " ".join(f"{m.phases.get(p, 0):>3}" for p in PHASES)
            print(f"  {method:38} {len(chosen):>3} clauses {m.result.request_count:>4} requests  [{phases}]  "
                  f"{passed}/{len(chosen)} PASS")
    print(f"  {'sum of the per-method runs':38} {len(clauses):>3} clauses {total:>4} requests; the full run: "
          f"{full.result.request_count} ({full.result.request_count / total:.2f} of the sum)")


if __name__ == "__main__":
    main()
