"""The target-neutral fixture every check uses: `lab`.

On Docker, `lab.host(service)` is the service's container (testinfra `docker://`) and probes go to
the published ports on LAB_BIND; on a native host target it is the machine itself over SSH. A lab
started with `lab up --host` (a `docker-remote` target in `.lab/lab.json`) is reached over SSH too: container checks
run `docker exec` on that host, and `lab.data` reads the lab's `data/` there. Probes still go to
LAB_BIND and the ports of the env file (the tunnel `lab up --host` prints).
"""

from __future__ import annotations

import json
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
    _data: Any = None

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def addr(self) -> str:
        """Where probes connect: an SSH tunnel's end here (LAB_PROBE_ADDR), a host, or LAB_BIND."""
        if os.environ.get("LAB_PROBE_ADDR"):
            return os.environ["LAB_PROBE_ADDR"]
        if self.target == "host":  # native target: probe the first inventory host (issue 4)
            return str(next(iter(self._host_targets()["groups"].values()))["address"])
        bind = self.cfg.core.bind
        return "127.0.0.1" if bind in ("0.0.0.0", "::") else bind

    def port(self, key: str) -> int:
        """The port a probe from here connects to (a tunnel's, when `lab host verify` opened one)."""
        tunnels = json.loads(os.environ.get("LAB_PROBE_PORTS") or "{}")
        return int(tunnels.get(key) or self.cfg.env_values()[key])

    def service_port(self, key: str) -> int:
        """The port the service listens on, on its host (what socket checks look for)."""
        return int(self.cfg.env_values()[key])

    @property
    def verify_database(self) -> str:
        """The disposable copy of the demo database that checks write to (`lab-db-apply` creates it)."""
        return f"{self.cfg.jdbc.database}_verify"

    def sql(self, query: str, database: str | None = None) -> Any:
        """Run `query` with the `mariadb` client on the database host, as the application user.

        Over TCP to 127.0.0.1:3306 there, so a check sees what Okta's connector sees; the result is
        testinfra's (rc, tab-separated stdout without column names, stderr).
        """
        j = self.cfg.jdbc
        if j.is_postgresql:  # psql: tab-separated, no header/footer, NULL as NULL, SQLSTATE in errors
            return self.host("db").run(
                "PGPASSWORD=%s psql -X -q -h 127.0.0.1 -p 5432 -U %s -d %s -tA -F %s -P null=NULL "
                "-v ON_ERROR_STOP=1 -v VERBOSITY=verbose -c %s",
                j.password, j.user, database or j.database, "\t", query,
            )  # fmt: skip
        return self.host("db").run(
            "MYSQL_PWD=%s mariadb --default-character-set=utf8mb4 --protocol=tcp -h 127.0.0.1 -P 3306 "
            "-u %s -N -B -e %s %s",
            j.password, j.user, query, database or j.database,
        )  # fmt: skip

    def listening(self, host: Any, port: int) -> bool:
        """True when something on `host` listens on `port`: on every address, or on LAB_BIND."""
        addresses = ["0.0.0.0", "::", self.cfg.core.bind]
        return any(host.socket(f"tcp://{a}:{port}").is_listening for a in dict.fromkeys(addresses))

    def host(self, service: str) -> Any:
        if service not in self._hosts and self.target == "host":  # over SSH (issue 4)
            t = self._host_targets()["services"].get(service)
            if not t:
                pytest.fail(f"no inventory host runs {service}")
            self._hosts[service] = _over_ssh(self.root, t)
        if service not in self._hosts and self.remote:
            self._hosts[service] = _over_ssh(self.root, self.remote["target"], self.container(service))
        if service not in self._hosts:
            self._hosts[service] = testinfra.get_host(f"docker://{self.container(service)}")
        return self._hosts[service]

    @property
    def remote(self) -> dict[str, Any] | None:
        """For a lab started with `lab up --host`: its SSH target and folder there."""
        if self.target != "docker":
            return None
        record = self._state().get("target")
        if isinstance(record, dict) and record.get("kind") == "docker-remote":
            return {"target": record["host"], "dir": record["directory"]}
        return None

    @property
    def machine(self) -> Any:
        """The machine running the Docker lab: this one, or the `lab up --host` host over SSH."""
        if "" not in self._hosts:
            remote = self.remote
            self._hosts[""] = _over_ssh(self.root, remote["target"]) if remote else testinfra.get_host("local://")
        return self._hosts[""]

    @property
    def data(self) -> Any:
        """The lab's generated files (lab.datafiles.DataFiles): here, on the remote or native host."""
        if self._data is None:
            from lab.context import LabContext
            from lab.datafiles import DataFiles, data_files

            ctx = LabContext(root=self.root)
            if self.target == "host":  # checking the native hosts: their files, whatever else was rendered here
                from lab.targets.host import HostTarget

                self._data = DataFiles(ctx.data_dir, HostTarget.from_rendered(ctx))
            else:
                self._data = data_files(ctx)
        return self._data

    def container(self, service: str) -> str:
        if self.remote:
            from lab.context import LabContext
            from lab.pipeline import lab_target

            target = lab_target(LabContext(root=self.root), self.cfg)
            try:
                name = target.container(service)
            finally:
                target.close()
            if name is None:
                pytest.fail(f"service {service} has no running container in project {self.cfg.core.project}")
            return name
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
        if self.target == "host":  # the unit's journal on the host (issue 4); sudo for a non-root user
            from lab.catalog import load_catalog

            comp = next((c for c in load_catalog() if c.service == service), None)
            unit = (comp.host_unit if comp else "") or service
            cmd = f"journalctl -u {unit} -n {int(lines)} --no-pager"
            return str(self.host(service).run(f"sudo -n {cmd} 2>/dev/null || {cmd}").stdout)
        if self.remote:
            result = self.machine.run(f"docker logs --tail {int(lines)} {self.container(service)} 2>&1")
            return str(result.stdout)
        import docker

        try:
            ct = docker.from_env().containers.get(self.container(service))
            return ct.logs(tail=lines).decode(errors="replace")
        except Exception as exc:  # noqa: BLE001 - diagnostics only
            return f"(no logs: {exc})"

    @property
    def services(self) -> list[str]:
        """The services this lab runs (from `.lab/lab.json`, or the host target's map)."""
        if self.target == "host":
            return sorted(self._host_targets()["services"])
        return list(self._state().get("services", []))

    def _state(self) -> dict[str, Any]:
        import json

        state = self.root / ".lab" / "lab.json"
        return dict(json.loads(state.read_text())) if state.exists() else {}

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


# The tables `lab verify` copies, parents first (USERENTITLEMENTS references both others).
_COPIED_TABLES = ("ENTITLEMENTS", "USERS", "USERENTITLEMENTS")


@pytest.fixture(scope="session")
def verify_db(lab: LabUnderTest) -> str:
    """The verification database, refreshed from the demo data once per run; its name.

    Checks that write (provisioning round trips, scim2-tester, the SCIM demo scenario) write
    there, never to the demo database: an Okta import after `lab verify` sees the demo unchanged.
    The copy is made as the application user (DML only: DELETE + INSERT ... SELECT).
    """
    demo, copy = lab.cfg.jdbc.database, lab.verify_database
    if lab.cfg.jdbc.is_postgresql:  # no cross-database INSERT ... SELECT: the db image copies the rows
        result = lab.host("db").run("lab-db-apply --refresh-verify")
        if result.rc != 0:
            pytest.fail(f"refreshing {copy} from {demo} failed: {result.stderr}\n{lab.logs('db')}")
        return copy
    columns = lab.sql(
        "SELECT TABLE_NAME, GROUP_CONCAT(CONCAT('`', COLUMN_NAME, '`') ORDER BY ORDINAL_POSITION) "
        f"FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = '{copy}' GROUP BY TABLE_NAME"
    )
    if columns.rc != 0 or not columns.stdout.strip():
        pytest.fail(
            f"no verification database {copy}: restart the db service (`lab up`) so it is created\n"
            f"{columns.stderr}\n{lab.logs('db')}"
        )
    cols = dict(line.split("\t") for line in columns.stdout.splitlines() if line)
    statements = ["SET FOREIGN_KEY_CHECKS = 0"]
    statements += [f"DELETE FROM `{copy}`.`{t}`" for t in reversed(_COPIED_TABLES)]
    statements += [
        f"INSERT INTO `{copy}`.`{t}` ({cols[t]}) SELECT {cols[t]} FROM `{demo}`.`{t}`" for t in _COPIED_TABLES
    ]
    statements.append("SET FOREIGN_KEY_CHECKS = 1")
    result = lab.sql("; ".join(statements), database=copy)
    if result.rc != 0:
        pytest.fail(f"refreshing {copy} from {demo} failed: {result.stderr}")
    return copy


def _over_ssh(root: Path, target: dict[str, Any], container: str | None = None) -> Any:
    """A testinfra host over SSH; with `container`, its commands run there (`docker exec` on the host).

    The session is `lab`'s own: the host key is checked against the lab's pinned known_hosts, as
    every other SSH connection of the toolkit (testinfra alone would accept any key with a warning).
    """
    from testinfra.backend.paramiko import ParamikoBackend
    from testinfra.host import Host

    from lab.context import LabContext
    from lab.host.inventory import SshTarget
    from lab.host.ssh import connect

    class Backend(ParamikoBackend):  # type: ignore[misc]
        def run(self, command: str, *args: str, **kwargs: Any) -> Any:
            if container is None:
                return super().run(command, *args, **kwargs)
            return super().run("docker exec %s /bin/sh -c %s", container, self.get_command(command, *args))

    ssh = SshTarget(**target)
    backend = Backend(f"{ssh.user}@{ssh.address}:{ssh.port}")
    backend.client = connect(ssh, LabContext(root=root).known_hosts)  # replaces testinfra's own connection
    host = Host(backend)
    backend.set_host(host)
    return host
