"""One error family, turned into messages and exit codes at the CLI edge only."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong, and how to fix it."""

    what: str
    hint: str = ""

    def __str__(self) -> str:
        return f"{self.what} — {self.hint}" if self.hint else self.what


class LabError(Exception):
    """Base of every error the toolkit reports to a user."""

    exit_code = 1

    def __init__(self, *problems: Problem | str) -> None:
        self.problems = [p if isinstance(p, Problem) else Problem(p) for p in problems]
        super().__init__("; ".join(str(p) for p in self.problems))


class ConfigError(LabError):
    """The .env file or the command line is wrong; nothing was started."""

    exit_code = 2


class UsageError(ConfigError):
    """A command was called with arguments that cannot work."""


class PreflightError(ConfigError):
    """The machine is not ready (no engine, no compose, a busy port); nothing was started."""


class RenderError(LabError):
    """A template could not be rendered."""


class TargetError(LabError):
    """The Docker engine, compose or a host did not do what was asked."""


class VerifyError(LabError):
    """Checks failed."""
