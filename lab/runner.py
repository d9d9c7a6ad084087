"""Every external command goes through here: logged, optionally dry-run, errors turned into LabErrors."""

from __future__ import annotations

import logging
import os
import shlex
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from lab.errors import Problem, TargetError

log = logging.getLogger("lab.runner")


@dataclass(frozen=True)
class Result:
    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0


@dataclass
class Runner:
    """Runs commands; with `dry_run` it only logs what it would run."""

    dry_run: bool = False
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path | None = None

    def run(
        self,
        args: Sequence[str],
        *,
        check: bool = True,
        capture: bool = True,
        input: str | None = None,
        timeout: float | None = None,
        env: Mapping[str, str] | None = None,
        hint: str = "",
        cwd: Path | None = None,
    ) -> Result:
        shown = shlex.join(args)
        log.debug("run: %s", shown)
        if self.dry_run:
            return Result(tuple(args), 0, "", "")
        full_env = {**os.environ, **self.env, **(env or {})}
        try:
            proc = subprocess.run(
                list(args),
                cwd=cwd or self.cwd,
                env=full_env,
                input=input,
                text=True,
                capture_output=capture,
                timeout=timeout,
                check=False,
            )
        except FileNotFoundError:
            raise TargetError(Problem(f"{args[0]} is not installed", hint or f"install {args[0]}")) from None
        except subprocess.TimeoutExpired:
            raise TargetError(Problem(f"`{shown}` did not finish within {timeout:.0f}s", hint)) from None
        result = Result(tuple(args), proc.returncode, proc.stdout or "", proc.stderr or "")
        if check and not result.ok:
            detail = (result.stderr or result.stdout).strip().splitlines()
            last = detail[-1] if detail else f"exit code {result.returncode}"
            raise TargetError(Problem(f"`{shown}` failed: {last}", hint))
        return result

    def interactive(self, args: Sequence[str], env: Mapping[str, str] | None = None) -> int:
        """Run with the terminal attached (logs -f, configure wizards)."""
        log.debug("run (interactive): %s", shlex.join(args))
        if self.dry_run:
            return 0
        return subprocess.call(list(args), cwd=self.cwd, env={**os.environ, **self.env, **(env or {})})
