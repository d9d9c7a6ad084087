"""Where `lab creds` reads generated files: local data/, a remote Docker host, or a native host."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from dotenv import dotenv_values

from lab.card import demo_card
from lab.catalog import load_catalog
from lab.config import LabConfig
from lab.context import LabContext
from lab.datafiles import MISSING, DataFiles, lab_data_files
from lab.envfile import example_path, render_env
from lab.errors import TargetError
from lab.host.inventory import SshTarget
from lab.state import LabState

HOST = SshTarget(name="lab1", address="10.0.0.5", port=22, user="admin")


class _Out:
    def __init__(self, rc: int, data: str) -> None:
        self.data, self.channel = data.encode(), self
        self.rc = rc

    def recv_exit_status(self) -> int:
        return self.rc

    def read(self) -> bytes:
        return self.data

    def write(self, text: str) -> None:
        pass

    def flush(self) -> None:
        pass

    def shutdown_write(self) -> None:
        pass


class FakeSsh:
    """Stands in for paramiko: records commands, serves files from a dict."""

    def __init__(self, files: dict[str, str]) -> None:
        self.files = files
        self.commands: list[str] = []
        self.connects = 0
        self.closed = False

    def connect(self, target: SshTarget, known_hosts: Path) -> FakeSsh:
        self.connects += 1
        return self

    def exec_command(self, command: str, timeout: float | None = None) -> tuple[_Out, _Out, _Out]:
        self.commands.append(command)
        if "/denied/" in command:
            return _Out(0, ""), _Out(1, ""), _Out(1, "sudo: a password is required")
        if command.endswith("'sudo -n true'") or "; sudo -n true" in command:  # the sudo check
            return _Out(0, ""), _Out(0, ""), _Out(0, "")
        path = next((p for p in self.files if p in command), None)
        out = _Out(0, self.files[path] + "\n") if path else _Out(3, "")
        return out, out, _Out(0, "")

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def ssh(monkeypatch: pytest.MonkeyPatch) -> FakeSsh:
    fake = FakeSsh({})
    monkeypatch.setattr("lab.host.ssh.connect", fake.connect)
    return fake


def remote(tmp_path: Path, host: SshTarget = HOST, directory: str = "/opt/okta-lab/demo") -> DataFiles:
    from lab.host.ssh import SshRunner
    from lab.targets.docker import ComposeTarget

    runner = SshRunner(host, tmp_path / "kh", become=host.user != "root")  # as RemoteDockerTarget.open
    return DataFiles(tmp_path, ComposeTarget("demo", directory, runner, None, {}))  # type: ignore[arg-type]


def native(tmp_path: Path, services: dict[str, SshTarget]) -> DataFiles:
    from lab.state import NativeHosts
    from lab.targets.host import HostTarget

    return DataFiles(tmp_path, HostTarget(NativeHosts("inventory.ini"), services, tmp_path / "kh", False))


def scim_card(files: DataFiles) -> dict[str, str]:
    text = render_env(example_path().read_text(), {})
    cfg = LabConfig.from_mapping({k: v or "" for k, v in dotenv_values(stream=io.StringIO(text)).items()})
    return {e.label: e.value for e in demo_card(cfg, [load_catalog().get("scim")], reveal=True, files=files)}


def test_local_files_are_read_from_data(tmp_path: Path) -> None:
    (tmp_path / "scim").mkdir()
    (tmp_path / "scim" / "token").write_text("abc123\n")
    card = scim_card(DataFiles(tmp_path))
    assert card["SCIM token"] == "Bearer abc123"
    assert card["SCIM certificate"] == str(tmp_path / "scim" / "scim.crt")


def test_a_missing_local_file_says_to_start_the_service(tmp_path: Path) -> None:
    assert scim_card(DataFiles(tmp_path))["SCIM token"] == f"Bearer {MISSING}"


def test_remote_docker_files_are_read_over_ssh_in_the_lab_folder(tmp_path: Path, ssh: FakeSsh) -> None:
    ssh.files["/opt/okta-lab/demo/data/scim/token"] = "remote-token"
    card = scim_card(remote(tmp_path))
    assert card["SCIM token"] == "Bearer remote-token"
    assert card["SCIM certificate"] == "lab1:/opt/okta-lab/demo/data/scim/scim.crt"
    assert len(ssh.commands) == 1 and ssh.commands[0].startswith("sudo -n -- sh -c ")  # admin is not root


def test_native_files_come_from_the_service_folder_without_sudo_as_root(tmp_path: Path, ssh: FakeSsh) -> None:
    root = SshTarget(name="db1", address="10.0.0.6", user="root")
    ssh.files["/var/lib/okta-lab-scim/token"] = "native-token"
    files = native(tmp_path, {"scim": root})
    assert files.read("scim/token") == "native-token"
    assert files.read("scim/absent") is None
    assert files.read("viewer/other") is None  # not a native service: local data/, absent
    assert [c.split()[:2] for c in ssh.commands] == [["sh", "-c"]] * 2  # root: no sudo
    assert ssh.connects == 1  # one session per host
    files.close()
    assert ssh.closed


def test_an_unreadable_remote_file_is_one_clear_error(
    tmp_path: Path, ssh: FakeSsh, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lab.catalog import load_catalog as real

    files = native(tmp_path, {"scim": HOST})
    comp = files.target._catalog["scim"]  # type: ignore[union-attr]
    monkeypatch.setitem(files.target._catalog, "scim", type(comp)(**{**comp.__dict__, "host_data": "/denied/"}))  # type: ignore[union-attr]
    with pytest.raises(TargetError) as err:
        files.read("scim/token")
    assert "cannot read /denied/token on lab1" in str(err.value.problems[0])
    assert "passwordless sudo" in str(err.value.problems[0])
    assert real


def _ctx(tmp_path: Path) -> LabContext:
    return LabContext(root=tmp_path)


def _targets(ctx: LabContext) -> None:
    folder = ctx.lab_dir / "host"
    folder.mkdir(parents=True)
    services = {"scim": HOST.__dict__, "db": HOST.__dict__}
    (folder / "targets.json").write_text(json.dumps({"target": "host", "services": services}))


def _env(ctx: LabContext) -> None:
    ctx.env_path.write_text(render_env(example_path().read_text(), {}))


def test_a_native_lab_reads_the_scim_folder_on_its_host(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path)
    _env(ctx)
    _targets(ctx)
    with lab_data_files(ctx) as files:
        assert files.where("scim/token") == "lab1:/var/lib/okta-lab-scim/token"
        assert files.where("db/anything") == str(ctx.data_dir / "db" / "anything")  # no host_data


def test_the_state_file_decides_over_rendered_host_files(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path)
    _env(ctx)
    _targets(ctx)
    LabState(services=["db", "scim"]).save(ctx)
    with lab_data_files(ctx) as files:
        assert files.where("scim/token") == str(ctx.data_dir / "scim" / "token")


def test_a_remote_docker_lab_is_read_where_lab_up_host_put_it(tmp_path: Path, ssh: FakeSsh) -> None:
    from lab.state import DockerRemote

    ctx = _ctx(tmp_path)
    _env(ctx)
    LabState(target=DockerRemote(HOST, "/opt/okta-lab/p"), services=["scim"]).save(ctx)
    import lab.targets.remote as remote_module

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(remote_module, "_supported", lambda client, target: "debian")
        with lab_data_files(ctx) as files:
            assert files.where("scim/scim.crt") == "lab1:/opt/okta-lab/p/data/scim/scim.crt"


def test_modes_are_read_locally_and_over_ssh(tmp_path: Path, ssh: FakeSsh) -> None:
    (tmp_path / "scim").mkdir()
    token = tmp_path / "scim" / "token"
    token.write_text("x")
    token.chmod(0o600)
    assert DataFiles(tmp_path).mode("scim/token") == 0o600
    assert DataFiles(tmp_path).mode("scim/absent") is None
    ssh.files["/opt/okta-lab/p/data/scim/token"] = "640"
    files = remote(tmp_path, directory="/opt/okta-lab/p")
    assert files.mode("scim/token") == 0o640
    assert "stat -c %a" in ssh.commands[-1]


def test_the_card_of_a_native_lab_is_true_for_its_hosts(tmp_path: Path) -> None:
    from lab.card import demo_card
    from lab.catalog import load_catalog
    from lab.config import LabConfig
    from lab.state import NativeHosts

    ctx = _ctx(tmp_path)
    _env(ctx)
    folder = ctx.lab_dir / "host"
    folder.mkdir(parents=True)
    services = {s: HOST.__dict__ for s in ("openldap", "ldap-ui", "okta-ldap-agent", "db", "viewer")}
    (folder / "targets.json").write_text(json.dumps({"target": "host", "services": services}))
    LabState(target=NativeHosts("inventory.ini"), services=list(services)).save(ctx)
    comps = [c for c in load_catalog() if c.service in services]
    with lab_data_files(ctx) as files:
        card = demo_card(LabConfig.from_env(ctx.env_path), comps, reveal=True, files=files)
    values = {(e.service, e.label): e.value for e in card}
    text = "\n".join(values.values())
    assert "openldap:1636" not in text and "jdbc:mysql://db:" not in text and "data/openldap" not in text
    assert values[("openldap", "CA certificate")].startswith("lab1:/etc/ldap/okta-lab/certs/ca.crt")
    assert values[("openldap", "LDAP URL")].startswith("ldap://127.0.0.1:")  # the default loopback bind
    assert "ssh -N -L" in values[("openldap", "Reach it")] and "admin@10.0.0.5" in values[("openldap", "Reach it")]
    assert values[("viewer", "Recordings")] == "lab1:/var/lib/okta-lab-viewer/recordings"
    (ctx.data_dir / "host-lab1" / "openldap").mkdir(parents=True)
    (ctx.data_dir / "host-lab1" / "openldap" / "ca.crt").write_text("PEM")
    with lab_data_files(ctx) as files:
        card = demo_card(LabConfig.from_env(ctx.env_path), comps, reveal=True, files=files)
    assert {e.label: e.value for e in card if e.service == "openldap"}[
        "CA certificate"
    ] == "data/host-lab1/openldap/ca.crt"
