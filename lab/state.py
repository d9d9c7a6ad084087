"""`.lab/lab.json`: what `lab up` (or `lab host up`) did, and where — one typed record per lab folder.

The `target` record says which target runs the lab: `DockerLocal` (this machine's engine),
`DockerRemote` (`lab up --host`: an SSH host and the lab's folder there) or `NativeHosts`
(`lab host up`: the inventory the stacks were converged on). A file that exists but cannot be
read or parsed is a `StateError` with the fix, never taken for "not started".
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from lab.context import LabContext
from lab.errors import ConfigError, Problem
from lab.host.inventory import SshTarget


class StateError(ConfigError):
    """`.lab/lab.json` exists but is not a state file this version can read."""


@dataclass(frozen=True)
class DockerLocal:
    kind: Literal["docker-local"] = "docker-local"

    @property
    def where(self) -> str:
        return "this machine"


@dataclass(frozen=True)
class DockerRemote:
    host: SshTarget
    directory: str
    kind: Literal["docker-remote"] = "docker-remote"
    #: the file holding the SSH user's sudo password (`--become-password-file`): its path, never the password
    become_file: str = ""

    @property
    def where(self) -> str:
        return self.host.name


@dataclass(frozen=True)
class NativeHosts:
    inventory: str
    kind: Literal["host"] = "host"

    @property
    def where(self) -> str:
        return f"the hosts of {self.inventory}"


TargetRecord = DockerLocal | DockerRemote | NativeHosts


@dataclass
class LabState:
    target: TargetRecord = field(default_factory=DockerLocal)
    project: str = "oktalab"
    services: list[str] = field(default_factory=list)
    images: dict[str, str] = field(default_factory=dict)
    config: dict[str, str] = field(default_factory=dict)  # secrets redacted
    compose: str = ""  # "v2 2.26.1": the variant and version that started it
    #: a remote lab: the digest of the files (`ShipResult.digest`) its last successful `lab up` started it from
    delivered: str = ""
    updated: float = 0.0

    @property
    def compose_variant(self) -> str | None:
        variant = self.compose.split(" ", 1)[0]
        return variant if variant in ("v1", "v2") else None

    @classmethod
    def load(cls, ctx: LabContext) -> LabState | None:
        """The state, None when there is no state file; StateError when it cannot be read."""
        path = ctx.state_file
        fix = f"restore it, or remove it (`rm {path}`) and run `lab up` again"
        try:
            text = path.read_text()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StateError(Problem(f"cannot read the lab state {path}: {exc.strerror or exc}", fix)) from None
        try:
            return cls.from_dict(json.loads(text))
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise StateError(Problem(f"the lab state {path} is corrupt ({_why(exc)})", fix)) from None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LabState:
        if not isinstance(data, dict):
            raise TypeError("not a JSON object")
        target = _target(data)
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__ and k != "target"}
        state = cls(target=target, **known)
        if not isinstance(state.services, list) or not all(isinstance(s, str) for s in state.services):
            raise TypeError("services is not a list of names")
        return state

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def save(self, ctx: LabContext) -> None:
        self.updated = time.time()
        ctx.lab_dir.mkdir(parents=True, exist_ok=True)
        text = json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n"
        tmp = ctx.state_file.with_suffix(".tmp")
        tmp.write_text(text)
        tmp.replace(ctx.state_file)

    def env_is_newer(self, ctx: LabContext) -> bool:
        """True when `.env` changed after the lab was last brought up."""
        path: Path = ctx.env_path
        return path.exists() and path.stat().st_mtime > self.updated


def _target(data: dict[str, Any]) -> TargetRecord:
    raw = data.get("target", "docker")
    if isinstance(raw, str):  # written before the typed record: "docker" plus an optional `remote` dict
        remote = data.get("remote") or {}
        if raw == "docker" and remote:
            return DockerRemote(SshTarget(**remote["target"]), str(remote["dir"]))
        if raw == "docker":
            return DockerLocal()
        raise ValueError(f"unknown target {raw!r}")
    kind = raw.get("kind")
    if kind == "docker-local":
        return DockerLocal()
    if kind == "docker-remote":
        return DockerRemote(
            SshTarget(**raw["host"]), str(raw["directory"]), become_file=str(raw.get("become_file", ""))
        )
    if kind == "host":
        return NativeHosts(str(raw["inventory"]))
    raise ValueError(f"unknown target kind {kind!r}")


def _why(exc: Exception) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"line {exc.lineno}: {exc.msg}"
    if isinstance(exc, KeyError):
        return f"missing {exc}"
    return str(exc)
