"""The target-neutral fixture every check uses: `lab`.

On Docker, `lab.host(service)` is the service's container (testinfra `docker://`) and probes go to
the published ports on LAB_BIND; on a native host target it is the machine itself over SSH.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import testinfra

from lab.config import LabConfig


@dataclass
class LabUnderTest:
    root: Path
    cfg: LabConfig
    target: str
    _hosts: dict[str, Any] = field(default_factory=dict)

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def addr(self) -> str:
        if self.target == "host":  # native target: probe the first inventory host (issue 4)
            return str(next(iter(self._host_targets()["groups"].values()))["address"])
        bind = self.cfg.core.bind
        return "127.0.0.1" if bind in ("0.0.0.0", "::") else bind

    def port(self, key: str) -> int:
        return int(self.cfg.env_values()[key])

    def host(self, service: str) -> Any:
        if service not in self._hosts and self.target == "host":  # over SSH (issue 4)
            t = self._host_targets()["services"].get(service)
            if not t:
                pytest.fail(f"no inventory host runs {service}")
            spec = f"paramiko://{t['user']}@{t['address']}:{t['port']}"
            self._hosts[service] = testinfra.get_host(spec, ssh_identity_file=t["key_file"] or None)
        if service not in self._hosts:
            self._hosts[service] = testinfra.get_host(f"docker://{self.container(service)}")
        return self._hosts[service]

    def container(self, service: str) -> str:
        import docker

        client = docker.from_env()
        found = client.containers.list(
            filters={
                "label": [
                    f"com.docker.compose.project={self.cfg.core.project}",
                    f"com.docker.compose.service={service}",
                ]
            }
        )
        if not found:
            pytest.fail(f"service {service} has no running container in project {self.cfg.core.project}")
        return str(found[0].name)

    def _host_targets(self) -> dict[str, Any]:
        """`.lab/host/targets.json`, written by `lab host up|verify`: which host runs what."""
        import json

        return dict(json.loads((self.root / ".lab" / "host" / "targets.json").read_text()))

    def logs(self, service: str, lines: int = 40) -> str:
        if self.target == "host":  # the unit's journal on the host (issue 4)
            cmd = f"journalctl -u {service.replace('-', '_')} -u {service} -n {lines} --no-pager"
            return str(self.host(service).run(cmd).stdout)
        import docker

        try:
            ct = docker.from_env().containers.get(self.container(service))
            return ct.logs(tail=lines).decode(errors="replace")
        except Exception as exc:  # noqa: BLE001 - diagnostics only
            return f"(no logs: {exc})"

    @property
    def services(self) -> list[str]:
        """The services this lab runs (from `.lab/lab.json`, or the host target's map)."""
        import json

        if self.target == "host":
            return sorted(self._host_targets()["services"])
        state = self.root / ".lab" / "lab.json"
        return list(json.loads(state.read_text()).get("services", [])) if state.exists() else []

    def require(self, service: str) -> None:
        """Skip a check that concerns a service this lab does not run (not applicable here)."""
        if service not in self.services:
            pytest.skip(f"{service} is not part of this lab")

    @staticmethod
    def wait(fn: Callable[[], Any], timeout: float = 60, interval: float = 1.0) -> Any:
        """Call `fn` until it returns a truthy value without raising; re-raise at the budget."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                value = fn()
                if value:
                    return value
            except Exception:
                if time.monotonic() > deadline:
                    raise
            if time.monotonic() > deadline:
                return fn()
            time.sleep(interval)


@pytest.fixture(scope="session")
def lab() -> LabUnderTest:
    root = Path(os.environ.get("LAB_ROOT", ".")).resolve()
    env_file = Path(os.environ.get("LAB_ENV_FILE", root / ".env"))
    return LabUnderTest(root=root, cfg=LabConfig.from_env(env_file), target=os.environ.get("LAB_TARGET", "docker"))
