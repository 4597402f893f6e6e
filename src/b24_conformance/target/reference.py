"""The embedded reference portal as a target: start it on loopback, describe it as a TargetConfig."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from ..portal.server import EmbeddedPortal
from ..portal.settings import PortalSettings
from .config import Credential, RateLimit, TargetConfig

# The embedded portal plays an Enterprise-plan portal (limits.md: X=250, Y=5/s), and the rate-limit
# clause meets that real threshold. The portal keys its buckets by IP, as Bitrix does, and loopback
# has addresses to spare: the probe has one, the sandbox's batches another, so a full run's clause
# calls (one each) do not wait on the bucket until the clause set passes 250.
ENTERPRISE = RateLimit(threshold=250, drain_per_s=5.0)
BURST_ADDRESS = "127.0.0.2"  # the rate-limit probe's own bucket
SANDBOX_ADDRESS = "127.0.0.3"  # the set-up, observation and clean-up batches' own bucket


def reference_settings(profile: str = "seed", *, tls: bool = True, mutants: tuple[str, ...] = (),
                       deterministic: bool = False, on_prem: bool = False) -> PortalSettings:
    return PortalSettings(profile=profile, tls=tls, rate_threshold=ENTERPRISE.threshold,
                          rate_drain_per_s=ENTERPRISE.drain_per_s, mutants=mutants,
                          deterministic=deterministic, on_prem=on_prem)


def target_for(portal: EmbeddedPortal) -> TargetConfig:
    """The TargetConfig of a running embedded portal (HTTPS when it has TLS)."""
    origin = (portal.tls_base_url or portal.base_url).rstrip("/")
    credentials = {}
    for rec in portal.credentials:
        if rec.kind == "webhook":
            credentials[rec.label] = Credential(role=rec.label, kind="webhook",
                                                webhook_url=f"{origin}/rest/{rec.user_id}/{rec.secret}/")
        else:
            credentials[rec.label] = Credential(role=rec.label, kind="oauth",
                                                oauth_endpoint=f"{origin}/rest/", token=rec.secret)
    tls = portal.tls_base_url is not None
    return TargetConfig(
        kind="reference",
        name=f"reference/{portal.settings.profile}" + (f"+{','.join(portal.settings.mutants)}"
                                                      if portal.settings.mutants else ""),
        credentials=credentials,
        fixtures=dict(portal.fixtures),
        capabilities=frozenset({"burst"} | ({"plain-http"} if tls else set())),
        rate=RateLimit(threshold=portal.settings.rate_threshold, drain_per_s=portal.settings.rate_drain_per_s),
        verify=portal.ca_path if tls and portal.ca_path else True,
        plain_http_base=portal.base_url.rstrip("/") if tls else None,
        source_address=BURST_ADDRESS,
        sandbox_address=SANDBOX_ADDRESS,
    )


@contextmanager
def reference_target(settings: PortalSettings | None = None) -> Iterator[TargetConfig]:
    """Start the embedded reference portal and yield it as a target; stop it afterwards."""
    with EmbeddedPortal(settings or reference_settings()) as portal:
        yield target_for(portal)
