"""Which target a run talks to, decided in one place for the CLI, the pytest plugin and `cleanup`.

Precedence, first match wins: a cassette folder (offline replay; with `record`, a deterministic
embedded portal recorded into it), a target config file, a webhook
URL (option, then `B24_WEBHOOK`), an OAuth token with its endpoint (option, then `B24_OAUTH_TOKEN`),
and otherwise the embedded reference portal, started for the run and stopped with `stack`.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from contextlib import ExitStack
from dataclasses import dataclass, replace
from pathlib import Path

from ..errors import UsageError
from .config import TargetConfig


@dataclass(frozen=True, slots=True, kw_only=True)
class TargetChoice:
    """What the user asked for, as options; every field may be empty."""

    webhook: str | None = None
    oauth_token: str | None = None
    oauth_endpoint: str | None = None
    target_file: str | None = None
    cassettes: str | None = None
    portal_profile: str = "seed"  # the embedded portal's wording
    mutants: tuple[str, ...] = ()  # deviations switched on in the embedded portal
    on_prem: bool = False  # the embedded portal plays a self-hosted one (no operating keys)
    record: bool = False  # with `cassettes`: record into them from a deterministic embedded portal
    fixtures: tuple[str, ...] = ()  # NAME=ID: a live portal's rows the suite uses, over its config's
    option_prefix: str = "--"  # how this runner spells its options in messages (`--b24-` for pytest)

    def option(self, name: str) -> str:
        return f"{self.option_prefix}{name}"


def resolve_target(choice: TargetChoice, stack: ExitStack, environ: Mapping[str, str] | None = None) -> TargetConfig:
    """The TargetConfig for `choice`; an embedded portal is entered on `stack` and lives as long as it."""
    environ = os.environ if environ is None else environ
    if choice.cassettes and choice.fixtures:
        raise UsageError(f"{choice.option('fixture')} names rows of a live portal; a recording is made on, "
                         "and replays, the embedded portal's own")
    if choice.cassettes and choice.record:
        from .cassette import require_vcrpy
        from .reference import reference_settings, reference_target
        require_vcrpy("record")
        return stack.enter_context(reference_target(reference_settings(
            choice.portal_profile, mutants=choice.mutants, on_prem=choice.on_prem, deterministic=True)))
    if choice.cassettes:
        from .cassette import cassette_target
        return cassette_target(Path(choice.cassettes))
    live = _live(choice, environ)
    if live is not None:
        return replace(live, fixtures={**live.fixtures, **fixtures_of(choice)}) if choice.fixtures else live
    if choice.fixtures:
        raise UsageError(f"{choice.option('fixture')} names rows of a live portal; the embedded reference "
                         "portal has its own", hint=f"pass it with {choice.option('webhook')} or "
                                                    f"{choice.option('target')}")
    from .reference import reference_settings, reference_target
    return stack.enter_context(reference_target(reference_settings(choice.portal_profile, mutants=choice.mutants,
                                                                    on_prem=choice.on_prem)))


def _live(choice: TargetChoice, environ: Mapping[str, str]) -> TargetConfig | None:
    """A live portal's config, when the choice names one."""
    if choice.target_file:
        from .config import load_target_config
        return load_target_config(Path(choice.target_file), environ)
    webhook = choice.webhook or environ.get("B24_WEBHOOK")
    token = choice.oauth_token or environ.get("B24_OAUTH_TOKEN")
    if webhook:
        from .config import single_webhook_target
        return single_webhook_target(webhook, oauth_token=token)
    if token:
        if not choice.oauth_endpoint:
            raise UsageError(f"{choice.option('oauth-token')} needs {choice.option('oauth-endpoint')} "
                             f"https://<portal>/rest/ (or a {choice.option('webhook')})")
        from .config import oauth_only_target
        return oauth_only_target(choice.oauth_endpoint, token)
    return None


def fixtures_of(choice: TargetChoice) -> dict[str, int]:
    """The `NAME=ID` fixtures of the choice, each a name the suite reads and a whole number."""
    from .config import LIVE_FIXTURES

    out: dict[str, int] = {}
    for text in choice.fixtures:
        name, sep, value = text.partition("=")
        name = name.strip()
        if not sep or name not in LIVE_FIXTURES:
            close = difflib.get_close_matches(name, LIVE_FIXTURES, n=1)
            raise UsageError(f"{choice.option('fixture')} {text!r}: expected NAME=ID with NAME one of "
                             f"{', '.join(LIVE_FIXTURES)}" + (f" (did you mean {close[0]}?)" if close else ""))
        try:
            out[name] = int(value.strip())
        except ValueError:
            raise UsageError(f"{choice.option('fixture')} {text!r}: the id must be a whole number") from None
        if out[name] < 0:
            raise UsageError(f"{choice.option('fixture')} {text!r}: the id must be 0 or more")
    return out
