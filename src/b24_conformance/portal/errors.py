"""The one error type the portal's domain raises: a profile message key plus its parameters.

The domain never holds a string a client will see. It raises `PortalError("cancel.not-conducted")`
and the HTTP layer renders it through the active profile (suites/profiles/*.yaml) into HTTP status,
`error` and `error_description`. A parameter may itself be a `MessageRef` (an inner reason such as
`reason.no-items` for `#ERROR#`), rendered first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..contract.profile import Profile


@dataclass(frozen=True, slots=True)
class MessageRef:
    key: str
    params: dict[str, Any] = field(default_factory=dict)

    def render(self, profile: Profile) -> str:
        return profile.message(self.key).render(**_render_params(self.params, profile))


class PortalError(Exception):
    """A documented failure. `key` is a message key of suites/profiles/README.md."""

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params

    def render(self, profile: Profile) -> tuple[int, str | int, str]:
        """(HTTP status, error code, error_description) in `profile`."""
        msg = profile.message(self.key)
        return msg.http, msg.error, msg.render(**_render_params(self.params, profile))

    def __repr__(self) -> str:
        return f"PortalError({self.key!r}, **{self.params!r})"


def _render_params(params: dict[str, Any], profile: Profile) -> dict[str, Any]:
    return {k: (v.render(profile) if isinstance(v, MessageRef) else v) for k, v in params.items()}
