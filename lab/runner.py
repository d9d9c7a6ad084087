"""Every external command goes through a runner: logged, dry-run aware, errors turned into LabErrors.

Two kinds of call, on every runner (this machine: `Runner`; a host over SSH: `lab.host.ssh.SshRunner`):

* `query(args)` reads (`docker compose version`, `docker inspect`): it runs even in a dry run,
  so a dry run prints the commands of the compose variant it actually found.
* `run(args)` changes something (`compose up`, `rm -rf`): in a dry run it is only shown
  ("would run: ..."), and the result is an empty success.

`put()` writes a file (locally a no-op in a dry run too); `stream()` feeds output lines to a callback.
"""

from __future__ import annotations

import logging
import os
import shlex
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from lab.errors import Problem, TargetError

log = logging.getLogger("lab.runner")

#: exit status of a command that does not exist (as a shell reports it)
NOT_FOUND = 127


@dataclass(frozen=True)
class Result:
    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0


class CommandRunner(Protocol):
    """What a target needs to run commands somewhere (here, or on a host over SSH)."""

    dry_run: bool

    @property
    def where(self) -> str:
        """Where commands run, for messages: "" for this machine, else the host's label."""

    def run(
        self,
        args: Sequence[str],
        *,
        check: bool = True,
        input: str | None = None,
        timeout: float | None = None,
        env: Mapping[str, str] | None = None,
        hint: str = "",
        cwd: str | Path | None = None,
    ) -> Result: ...

    def query(
        self,
        args: Sequence[str],
        *,
        check: bool = False,
        timeout: float | None = None,
        env: Mapping[str, str] | None = None,
        hint: str = "",
        cwd: str | Path | None = None,
    ) -> Result: ...

    def stream(
        self,
        args: Sequence[str],
        write: Callable[[str], object],
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | Path | None = None,
    ) -> int: ...

    def put(self, dest: str, data: bytes, mode: int = 0o644) -> None: ...

    def close(self) -> None: ...


def failure(args: Sequence[str], result: Result, hint: str, where: str = "") -> TargetError:
    """The TargetError for a failed command: its last line of output, and the hint."""
    detail = (result.stderr or result.stdout).strip().splitlines()
    last = detail[-1] if detail else f"exit code {result.returncode}"
    on = f" on {where}" if where else ""
    return TargetError(Problem(f"`{shlex.join(args)}`{on} failed: {last}", hint))


def show_dry(args: Sequence[str], where: str = "", cwd: str | Path | None = None) -> None:
    """Log a command a dry run does not run (the CLI shows these lines on stderr)."""
    place = f" [on {where}{f' in {cwd}' if cwd else ''}]" if where else ""
    log.info("would run: %s%s", shlex.join(args), place)


@dataclass
class Runner:
    """Runs commands on this machine; with `dry_run` it runs queries only and shows the rest."""

    dry_run: bool = False
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path | None = None

    @property
    def where(self) -> str:
        return ""

    def run(
        self,
        args: Sequence[str],
        *,
        check: bool = True,
        input: str | None = None,
        timeout: float | None = None,
        env: Mapping[str, str] | None = None,
        hint: str = "",
        cwd: str | Path | None = None,
        capture: bool = True,
    ) -> Result:
        if self.dry_run:
            show_dry(args)
            return Result(tuple(args), 0, "", "")
        return self._exec(args, check=check, input=input, timeout=timeout, env=env, hint=hint, cwd=cwd)

    def query(
        self,
        args: Sequence[str],
        *,
        check: bool = False,
        timeout: float | None = None,
        env: Mapping[str, str] | None = None,
        hint: str = "",
        cwd: str | Path | None = None,
    ) -> Result:
        return self._exec(args, check=check, input=None, timeout=timeout, env=env, hint=hint, cwd=cwd)

    def _exec(
        self,
        args: Sequence[str],
        *,
        check: bool,
        input: str | None,
        timeout: float | None,
        env: Mapping[str, str] | None,
        hint: str,
        cwd: str | Path | None,
    ) -> Result:
        shown = shlex.join(args)
        log.debug("run: %s", shown)
        try:
            proc = subprocess.run(
                list(args),
                cwd=cwd or self.cwd,
                env={**os.environ, **self.env, **(env or {})},
                input=input,
                text=True,
                capture_output=True,
                timeout=timeout,
                check=False,
            )
        except FileNotFoundError:
            if check:
                raise TargetError(Problem(f"{args[0]} is not installed", hint or f"install {args[0]}")) from None
            return Result(tuple(args), NOT_FOUND, "", f"{args[0]}: command not found")
        except subprocess.TimeoutExpired:
            raise TargetError(Problem(f"`{shown}` did not finish within {timeout:.0f}s", hint)) from None
        result = Result(tuple(args), proc.returncode, proc.stdout or "", proc.stderr or "")
        if check and not result.ok:
            raise failure(args, result, hint)
        return result

    def stream(
        self,
        args: Sequence[str],
        write: Callable[[str], object],
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | Path | None = None,
    ) -> int:
        """Feed each output line (stdout and stderr) to `write`; the command's exit status."""
        log.debug("run (stream): %s", shlex.join(args))
        try:
            proc = subprocess.Popen(
                list(args),
                cwd=cwd or self.cwd,
                env={**os.environ, **self.env, **(env or {})},
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
        except FileNotFoundError:
            raise TargetError(Problem(f"{args[0]} is not installed", f"install {args[0]}")) from None
        assert proc.stdout is not None
        try:
            for line in proc.stdout:
                write(line.rstrip("\n"))
        finally:
            proc.stdout.close()
        return proc.wait()

    def interactive(self, args: Sequence[str], env: Mapping[str, str] | None = None) -> int:
        """Run with the terminal attached (configure wizards). Shown only, in a dry run."""
        if self.dry_run:
            show_dry(args)
            return 0
        log.debug("run (interactive): %s", shlex.join(args))
        return subprocess.call(list(args), cwd=self.cwd, env={**os.environ, **self.env, **(env or {})})

    def put(self, dest: str, data: bytes, mode: int = 0o644) -> None:
        if self.dry_run:
            log.info("would write: %s (%d bytes, mode %o)", dest, len(data), mode)
            return
        path = Path(dest)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(path, mode)

    def close(self) -> None:
        pass
