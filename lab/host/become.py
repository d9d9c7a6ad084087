"""The sudo password for inventory users whose sudo asks for one (`ansible_become_password`).

Never taken from the command line (a `ps` or the shell history would show it): from a file
(`--become-password-file FILE` or `LAB_BECOME_PASSWORD_FILE`, mode 0600, not executable: Ansible
would run an executable file and use its output) or typed at a prompt (`--ask-become-pass`).
Ansible gets it as `ANSIBLE_BECOME_PASSWORD_FILE`; a prompted password goes to a 0600 file under
`.lab/host/` for the run only. `ansible_become_password` on a host's inventory line (or vault)
wins for that host, as in Ansible.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from lab.errors import ConfigError, Problem

ENV = "LAB_BECOME_PASSWORD_FILE"


@dataclass(frozen=True)
class Become:
    """A sudo password and the file it came from (None: a prompt, or no password at all)."""

    password: str | None = field(default=None, repr=False)
    file: Path | None = None

    def for_host(self, host_vars: dict[str, str]) -> str | None:
        """The password sudo gets on a host: its own `ansible_become_password`, else this one."""
        return host_vars.get("ansible_become_password", host_vars.get("ansible_become_pass")) or self.password


NONE = Become()


def from_file(path: Path) -> Become:
    """Read the password (first line) from `path`; ConfigError when the file is unsafe or unreadable."""
    where = f"become password file {path}"
    try:
        info = path.stat()
        text = path.read_text()
    except OSError as exc:
        raise ConfigError(
            Problem(f"{where} cannot be read: {exc.strerror or exc}", f"create it (mode 0600) or unset {ENV}")
        ) from None
    if info.st_mode & (stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH):
        raise ConfigError(Problem(f"{where} is executable (Ansible would run it)", f"chmod 600 {path}"))
    if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(Problem(f"{where} is readable by other users", f"chmod 600 {path}"))
    password = text.splitlines()[0] if text.strip() else ""
    if not password:
        raise ConfigError(Problem(f"{where} is empty", "put the sudo password on its first line"))
    return Become(password, path.resolve())


def load(file: Path | None = None, ask: bool = False, prompt: object = None) -> Become:
    """The password from `file`, else `$LAB_BECOME_PASSWORD_FILE`, else the prompt when `ask`.

    `prompt` is a callable returning the typed password (the CLI's getpass)."""
    if file is None and os.environ.get(ENV):
        file = Path(os.environ[ENV]).expanduser()
    if file is not None:
        return from_file(file)
    if ask and callable(prompt):
        typed = str(prompt())
        if not typed:
            raise ConfigError(Problem("no sudo password was typed", "type it, or drop --ask-become-pass"))
        return Become(typed, None)
    return NONE


@contextlib.contextmanager
def password_file(become: Become, folder: Path) -> Iterator[Path | None]:
    """A file Ansible can read the password from: the user's own, or a 0600 one removed afterwards."""
    if become.password is None:
        yield None
        return
    if become.file is not None:
        yield become.file
        return
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / ".become-password"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(become.password + "\n")
        yield path
    finally:
        path.unlink(missing_ok=True)
