"""Errors raised by b24-conformance, one tree for the whole run.

    ConformanceError            anything this package raises on purpose
    ├── UsageError              a bad command line, option or name (exit code 2)
    ├── ContractError           the data is wrong: a clause file, a profile, a schema
    │   ├── ClauseFileInvalid
    │   └── UnknownProfileKey
    └── TargetError             the portal could not be reached or used; a verdict becomes ERROR
        ├── TargetConfigInvalid
        └── TargetUnreachable

Each error renders its own message and an optional hint. None of them carries a secret: messages
are built from redacted URLs only.
"""

from __future__ import annotations


class ConformanceError(Exception):
    """Base class. `hint` says what to do about it."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\n  hint: {self.hint}" if self.hint else self.message


class UsageError(ConformanceError):
    """A bad command line, option value or name."""


class ContractError(ConformanceError):
    """Clause, profile or schema data is invalid."""


class ClauseFileInvalid(ContractError):
    def __init__(self, path: str, pointer: str, message: str, *, hint: str | None = None) -> None:
        super().__init__(f"{path}: at {pointer or '/'}: {message}", hint=hint)
        self.path = path
        self.pointer = pointer


class UnknownProfileKey(ContractError):
    def __init__(self, profile: str, key: str, *, hint: str | None = None) -> None:
        super().__init__(f"profile {profile!r} has no message {key!r}", hint=hint)
        self.profile = profile
        self.key = key


class TargetError(ConformanceError):
    """The target portal could not be used. Verdicts that hit this are ERROR, not FAIL."""


class TargetConfigInvalid(TargetError):
    pass


class TargetUnreachable(TargetError):
    pass

