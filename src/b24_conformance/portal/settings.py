"""Settings of one reference-portal instance. Built from CLI options or by tests; never global."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class PortalSettings:
    profile: str = "seed"
    host: str = "127.0.0.1"
    port: int = 0  # 0: pick a free port
    tls: bool = False  # also serve HTTPS; the plain listener then answers webhooks "Https required"
    tls_port: int = 0
    db_path: str = ":memory:"
    deterministic: bool = False  # fixed clock and fixed credential codes, for reproducible recordings
    secret_seed: str = "b24-conformance"  # what fixed credential codes derive from in deterministic mode
    fixed_clock: float = 1762411074.0  # the seed page's own `start`
    rate_threshold: int = 50  # leaky bucket X (docs: 50, Enterprise 250)
    rate_drain_per_s: float = 2.0  # leaky bucket Y (docs: 2/s, Enterprise 5/s)
    operating_limit_s: float = 480.0  # per method, per credential, over 10 one-minute baskets
    require_contractor: bool = True  # a receipt (A) conducts only with a supplier bound, as on real portals
    workers: int = 8  # requests run side by side on this many threads, as PHP-FPM workers do;
    #                   0 runs them one at a time on the event loop (faster, never concurrent)
    page_examples: bool = True  # seed documents 142 (conducted) and 143 (draft), as the page's curl uses
    mutants: tuple[str, ...] = ()  # named deviations switched on (portal/mutants.py)
    on_prem: bool = False  # a self-hosted portal's variant: `time` blocks without the operating keys
