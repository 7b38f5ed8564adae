"""One exception hierarchy; each class carries the CLI exit code documented in the README.

Messages must name the problem and the fix, and must never carry personal data
(names, emails, phones, dates of birth).
"""

from __future__ import annotations


class GsyncError(Exception):
    """Base of every error gsync reports to a user. Exit code 1."""

    exit_code = 1

    def __init__(self, message: str, *, fix: str | None = None) -> None:
        self.message = message
        self.fix = fix
        super().__init__(self.render())

    def render(self) -> str:
        return f"{self.message} Fix: {self.fix}" if self.fix else self.message


class ConfigError(GsyncError):
    """Bad configuration, bad spec file or bad command-line usage. Exit code 2."""

    exit_code = 2


class SpecError(ConfigError):
    """A spec file (form, template, rules, taxonomy, policy) failed validation. Exit code 2."""


class AuthError(GsyncError):
    """Credentials missing, malformed, expired or lacking a scope. Exit code 3."""

    exit_code = 3


class GoogleApiError(GsyncError):
    """Google (or the emulator) refused a request after bounded retries. Exit code 4."""

    exit_code = 4

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        reason: str | None = None,
        fix: str | None = None,
    ) -> None:
        self.status = status
        self.reason = reason
        super().__init__(message, fix=fix)


class LockedError(GsyncError):
    """Another gsync run holds the spreadsheet's lease. Exit code 5."""

    exit_code = 5


class DataError(GsyncError):
    """An input file (roster, local-authority file) was rejected; nothing was written. Exit code 6."""

    exit_code = 6


class OverdueError(GsyncError):
    """`status --fail-on-overdue` found an overdue entry. Exit code 7."""

    exit_code = 7


class DisclosureError(GsyncError):
    """A summary failed the disclosure check; nothing was written. Exit code 8."""

    exit_code = 8


class NotFoundError(GsyncError):
    """A spreadsheet, tab or form that gsync expected is missing. Exit code 9."""

    exit_code = 9
