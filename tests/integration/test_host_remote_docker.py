"""This machine over SSH on 127.0.0.1 as the remote Docker host: prepare, `lab up --host`, tunnels.

Docker is already installed here, so `prepare-docker` proves idempotence (no change) rather than a
fresh install. The default labs (ldap, jdbc, viewer) run on the "remote" loopback; `lab verify`
then runs through the printed tunnel, opened on local ports that differ from the remote ones, so
every probe that passes went through SSH.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from lab.config import LabConfig
from tests.hosts.sshd import LocalSshd, local_sshd
from tests.hosts.testhost import (
    TestHost,
    build_image,
    free_port,
    make_key,
    port_keys,
    require_docker,
    start_host,
    write_lab,
)

pytestmark = [pytest.mark.docker, pytest.mark.slow]
DEFAULT_SERVICES = {"openldap", "ldap-ui", "db", "dbgate", "scim", "viewer"}
SSH_OPTS = ["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes"]


def lab(directory: Path, *args: str, timeout: int = 2400) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lab", "-C", str(directory), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )


@dataclass(frozen=True)
class RemoteLab:
    dir: Path
    project: str
    up: subprocess.CompletedProcess[str]

    def tunnels(self) -> list[str]:
        return [line.strip() for line in self.up.stdout.splitlines() if line.strip().startswith("ssh -N")]

    def containers(self) -> dict[str, tuple[str, str]]:
        """Compose service -> (container id, image), for this test's project only (unique label)."""
        out = subprocess.run(
            ["docker", "ps", "-a", "--filter", f"label=com.docker.compose.project={self.project}",
             "--format", '{{.Label "com.docker.compose.service"}}\t{{.ID}}\t{{.Image}}'],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        rows = [line.split("\t") for line in out.splitlines() if line.count("\t") == 2]
        return {svc: (cid, image) for svc, cid, image in rows}


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalSshd]:
    require_docker()
    with local_sshd(tmp_path_factory.mktemp("sshd")) as server:
        yield server


@pytest.fixture(scope="module")
def remote_lab(sshd: LocalSshd, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RemoteLab]:
    """The default labs, started once for the module with `lab up --host ci` (an inventory name)."""
    project = f"remote{free_port()}"
    ports = {k: str(free_port()) for k in port_keys()}
    d = write_lab(
        tmp_path_factory.mktemp("remote"),
        f"[docker]\n{sshd.inventory_line('ci')}\n",
        LAB_BIND="127.0.0.1",
        LAB_PROJECT=project,
        **ports,
    )
    remote_dir = f"/opt/okta-lab/{project}"
    try:
        yield RemoteLab(d, project, lab(d, "up", "--host", "ci"))
    finally:  # only this project's containers, networks and volumes; shared images stay
        compose = shutil.which("docker-compose") or "docker-compose"
        subprocess.run(
            [compose, "-p", project, "-f", f"{remote_dir}/.lab/compose.yml", "down", "-v", "--remove-orphans"],
            capture_output=True, check=False, cwd=remote_dir if Path(remote_dir).is_dir() else None,
        )  # fmt: skip
        shutil.rmtree(remote_dir, ignore_errors=True)


def test_prepare_docker_is_idempotent(sshd: LocalSshd, tmp_path: Path) -> None:
    spec = f"root@127.0.0.1:{sshd.port}"
    first = lab(tmp_path, "host", "prepare-docker", spec, "-k", str(sshd.key_file))
    assert first.returncode == 0, first.stderr
    second = lab(tmp_path, "host", "prepare-docker", spec, "-k", str(sshd.key_file))
    assert second.returncode == 0, second.stderr
    assert "Docker ready (0 change(s)" in second.stdout
    assert "Docker 2" in second.stdout  # the engine answered with its version


def test_prepare_docker_without_access_is_one_clear_line(sshd: LocalSshd, tmp_path: Path) -> None:
    r = lab(tmp_path, "host", "prepare-docker", f"root@127.0.0.1:{sshd.port}")  # no key
    assert r.returncode == 1
    assert "SSH authentication failed" in r.stderr and "Traceback" not in r.stderr


def test_up_on_remote_host_starts_the_default_labs(remote_lab: RemoteLab) -> None:
    up = remote_lab.up
    assert up.returncode == 0, (up.stdout + up.stderr)[-4000:]
    assert all(s in up.stdout for s in DEFAULT_SERVICES), up.stdout
    assert set(remote_lab.containers()) >= DEFAULT_SERVICES
    cfg = LabConfig.from_env(remote_lab.dir / ".env")
    ui = {t.rsplit("# ", 1)[-1] for t in remote_lab.tunnels() if "# all published ports" not in t}
    assert ui == {"ldap-ui", "dbgate", "viewer"}
    assert f"-L {cfg.ldap.port}:127.0.0.1:{cfg.ldap.port}" in remote_lab.tunnels()[-1]


def test_ports_stay_on_the_remote_loopback(remote_lab: RemoteLab) -> None:
    out = subprocess.run(
        ["docker", "ps", "--filter", f"label=com.docker.compose.project={remote_lab.project}",
         "--format", "{{.Ports}}"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    published = re.findall(r"([0-9.:\[\]]+):\d+->", out)
    assert published and set(published) == {"127.0.0.1"}, out


def test_verify_passes_through_lab_host_tunnel(remote_lab: RemoteLab) -> None:
    """`lab host tunnel` forwards every published port (busy ones here, as every remote port is on
    this machine, from free local ports) and writes .lab/tunnel.env; `lab verify` reads it."""
    assert remote_lab.up.returncode == 0
    # No local data/: the checks read the SCIM token (and its mode) on the host, over SSH, and
    # look inside the containers with `docker exec` there.
    assert not (remote_lab.dir / "data").exists()
    tunnel_env = remote_lab.dir / ".lab" / "tunnel.env"
    proc = subprocess.Popen(
        [sys.executable, "-m", "lab", "-C", str(remote_lab.dir), "host", "tunnel"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not tunnel_env.exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.3)
        assert tunnel_env.exists(), proc.communicate(timeout=10)
        assert tunnel_env.stat().st_mode & 0o777 == 0o600
        remote_ports = LabConfig.from_env(remote_lab.dir / ".env").env_values()
        local_ports = LabConfig.from_env(tunnel_env).env_values()
        moved = [int(local_ports[k]) for k in port_keys() if k in remote_ports and local_ports[k] != remote_ports[k]]
        assert moved, "every remote port is busy here, so every forwarded one moved"
        _wait_ports(proc, moved)
        r = lab(
            remote_lab.dir, "--env-file", str(tunnel_env), "verify", "ldap", "jdbc", "viewer", "--json", timeout=900
        )
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
    report = json.loads(r.stdout)
    assert report["ok"]
    outcomes = {(x["component"], x["outcome"]) for x in report["results"]}
    assert {x["outcome"] for x in report["results"]} <= {"passed", "skipped"}
    for component in ("ldap", "jdbc", "scim", "viewer"):  # every stack's checks really ran
        assert (component, "passed") in outcomes, outcomes


def _wait_ports(proc: subprocess.Popen[str], ports: list[int], timeout: float = 30) -> None:
    import socket

    deadline = time.monotonic() + timeout
    for port in ports:
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=2).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    proc.kill()
                    pytest.fail(f"tunnel did not open: {proc.communicate(timeout=10)}")
                time.sleep(0.3)


def test_scim_demo_runs_against_the_remote_lab(remote_lab: RemoteLab) -> None:
    """Through the tunnel on other local ports; the views are read with docker exec over SSH."""
    line = next(t for t in remote_lab.tunnels() if t.endswith("# all published ports"))
    argv, local = _relocate(line)
    scim_port = int(LabConfig.from_env(remote_lab.dir / ".env").env_values()["SCIM_PORT"])
    url = f"https://127.0.0.1:{local[scim_port]}/scim/v2"
    with _tunnel(argv, list(local.values())):
        args = ["scim", "demo", "--url", url, "--user", "remote.demo@galaxy.local", "--json"]
        r = lab(remote_lab.dir, *args, timeout=300)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    steps = json.loads(r.stdout)
    assert [s["status"] for s in steps] == [201, 200, 200, 200, 200]
    assert [row["TITLE"] for row in steps[-1]["rows"]["V_ACTIVE_USERS"]] == ["Jedi Knight"]
    assert [row["ENT_ID"] for row in steps[-1]["rows"]["V_USERENTITLEMENTS"]] == ["2"]
    password = LabConfig.from_env(remote_lab.dir / ".env").jdbc.password
    assert password not in r.stdout + r.stderr


@pytest.mark.parametrize("service", ["ldap-ui", "dbgate", "viewer"])
def test_each_ui_answers_through_its_tunnel(remote_lab: RemoteLab, service: str) -> None:
    assert remote_lab.up.returncode == 0
    line = next(t for t in remote_lab.tunnels() if t.endswith(f"# {service}"))
    argv, local = _relocate(line)
    (here,) = local.values()
    with _tunnel(argv, [here]):
        assert _http_status(f"http://127.0.0.1:{here}/", timeout=30) in (200, 302, 401)


def test_creds_read_the_token_on_the_remote_host(remote_lab: RemoteLab) -> None:
    remote_dir = Path(f"/opt/okta-lab/{remote_lab.project}")  # the "remote" host is this machine
    token = (remote_dir / "data" / "scim" / "token").read_text().strip()
    proc = lab(remote_lab.dir, "creds", "scim", "--json", timeout=120)
    assert proc.returncode == 0, proc.stderr
    card = {e["label"]: e["value"] for e in json.loads(proc.stdout)}
    assert card["SCIM token"] == f"Bearer {token}", "lab creds did not read the remote token"
    assert card["SCIM certificate"] == f"ci:{remote_dir}/data/scim/scim.crt"  # read over SSH, not data/


def test_second_up_recreates_nothing(remote_lab: RemoteLab) -> None:
    """No container is recreated unless its image changed (a build context edited meanwhile)."""
    assert remote_lab.up.returncode == 0
    before = remote_lab.containers()
    again = lab(remote_lab.dir, "host", "docker-up", "ci")
    assert again.returncode == 0, again.stderr[-2000:]
    after = remote_lab.containers()
    # nothing shipped or built, every service healthy: no `compose up` at all (it used to run every
    # time). Edits to lab/ while the module runs change the scim/viewer images and take the full run.
    assert "shipped 0 of" in again.stderr and "compose up skipped" in again.stderr, again.stderr[-3000:]
    assert "starting services" not in again.stderr and "waiting for health checks" not in again.stderr
    assert set(after) == set(before)
    kept = [svc for svc in before if before[svc][1] == after[svc][1]]
    assert kept, "every image changed between two runs"
    assert {svc: after[svc] for svc in kept} == {svc: before[svc] for svc in kept}


def test_status_and_logs_come_from_the_remote_host(remote_lab: RemoteLab) -> None:
    status = lab(remote_lab.dir, "status", "--json", timeout=120)
    assert status.returncode == 0, status.stdout + status.stderr
    services = {s["service"]: s for s in json.loads(status.stdout)["services"]}
    assert set(services) == DEFAULT_SERVICES
    assert all(s["health"] == "healthy" and s["state"] == "running" for s in services.values()), services
    logs = lab(remote_lab.dir, "logs", "scim", "--tail", "5", timeout=120)
    assert logs.returncode == 0, logs.stderr
    assert logs.stdout.strip() and all(line.startswith("scim") for line in logs.stdout.strip().splitlines())


def test_local_reset_and_backup_refuse_to_touch_a_remote_lab(remote_lab: RemoteLab) -> None:
    before = remote_lab.containers()
    for args in (["reset", "jdbc", "--yes"], ["backup"]):
        r = lab(remote_lab.dir, *args, timeout=120)
        assert r.returncode == 2, r.stdout + r.stderr
        errors = [line for line in r.stderr.splitlines() if line.startswith("error:")]
        assert len(errors) == 1 and "runs on ci" in errors[0], r.stderr
    assert remote_lab.containers() == before


def test_down_then_destroy_act_on_the_remote_host(remote_lab: RemoteLab) -> None:
    """Last in the module: the lab goes away, over SSH, as the commands say."""
    remote_dir = Path(f"/opt/okta-lab/{remote_lab.project}")
    down = lab(remote_lab.dir, "down", timeout=600)
    assert down.returncode == 0, down.stderr
    assert remote_lab.containers() == {}
    token = (remote_dir / "data" / "scim" / "token").read_text()  # down keeps the data
    resumed = lab(remote_lab.dir, "up", timeout=1200)  # no --host: the recorded host, as the docs say
    assert resumed.returncode == 0, (resumed.stdout + resumed.stderr)[-3000:]
    assert "lab is up on ci" in resumed.stdout and set(remote_lab.containers()) >= DEFAULT_SERVICES
    assert (remote_dir / "data" / "scim" / "token").read_text() == token
    down = lab(remote_lab.dir, "down", timeout=600)
    assert down.returncode == 0 and remote_lab.containers() == {}, down.stderr
    destroy = lab(remote_lab.dir, "destroy", "--yes", timeout=600)
    assert destroy.returncode == 0, destroy.stderr
    assert f"{remote_dir} on ci" in destroy.stdout
    assert not remote_dir.exists() and not (remote_lab.dir / ".lab").exists()


def _relocate(line: str) -> tuple[list[str], dict[int, int]]:
    """The printed command with every `-L P:127.0.0.1:P` moved to a free local port: {P: local}."""
    argv = shlex.split(line.split("#")[0])
    local: dict[int, int] = {}
    for i, arg in enumerate(argv):
        if i and argv[i - 1] == "-L":
            here, host, remote = arg.split(":")
            assert here == remote and host == "127.0.0.1", arg
            local[int(remote)] = free_port()
            argv[i] = f"{local[int(remote)]}:127.0.0.1:{remote}"
    assert local and all(a != b for a, b in local.items())
    return [argv[0], *SSH_OPTS, "-o", "ExitOnForwardFailure=yes", *argv[1:]], local


class _tunnel:
    """Run an `ssh -N -L` command until the block ends; wait until every local port accepts."""

    def __init__(self, argv: list[str], ports: list[int]) -> None:
        self.argv, self.ports = argv, ports

    def __enter__(self) -> subprocess.Popen[bytes]:
        import socket

        self.proc = subprocess.Popen(self.argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 20
        for port in self.ports:
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=2).close()
                    break
                except OSError:
                    if self.proc.poll() is not None or time.monotonic() > deadline:
                        self.proc.kill()
                        pytest.fail(f"tunnel did not open: {self.proc.stderr.read().decode()[-500:]}")  # type: ignore[union-attr]
                    time.sleep(0.3)
        return self.proc

    def __exit__(self, *exc: object) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


def _http_status(url: str, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as resp:  # noqa: S310 - loopback only
                return int(resp.status)
        except urllib.error.HTTPError as exc:
            return int(exc.code)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


@pytest.fixture(scope="module")
def sshd_no_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalSshd]:
    """This machine over SSH, with DOCKER_HOST pointing nowhere for its sessions: compose is
    installed, the engine does not answer (the machine's own engine keeps running)."""
    require_docker()
    with local_sshd(tmp_path_factory.mktemp("sshd-no-engine"), ["SetEnv=DOCKER_HOST=unix:///nonexistent.sock"]) as s:
        yield s


def test_deliver_ships_only_what_changed_in_one_stream(sshd: LocalSshd, tmp_path: Path) -> None:
    """First delivery: every file and a 0600 lab.env; a no-op: one manifest query, nothing sent;
    one edit and one removal: one manifest query and one tar stream, over the same session."""
    from lab.host.inventory import SshTarget
    from lab.state import DockerRemote
    from lab.targets.remote import RemoteDockerTarget

    project = f"ship{free_port()}"
    remote = Path(f"/opt/okta-lab/{project}")
    lab_dir = tmp_path / ".lab"
    files = {"compose.yml": "services: {}\n", "openldap/ldif/base.ldif": "dn: dc=x\n", "scim/app.conf": "a=1\n"}
    for rel, text in files.items():
        (lab_dir / rel).parent.mkdir(parents=True, exist_ok=True)
        (lab_dir / rel).write_text(text)
    (lab_dir / "openldap" / "entrypoint.sh").write_text("#!/bin/sh\n")
    (lab_dir / "openldap" / "entrypoint.sh").chmod(0o755)
    host = SshTarget("ci", "127.0.0.1", sshd.port, "root", str(sshd.key_file))
    target = RemoteDockerTarget.open(DockerRemote(host, str(remote)), project, tmp_path / "kh", {"SECRET": "s3 cr3t"})
    calls: list[str] = []
    client = target.ssh.connection()
    real = client.exec_command

    def counting(command: str, *args: object, **kwargs: object) -> object:
        calls.append(command)
        return real(command, *args, **kwargs)  # type: ignore[arg-type]

    client.exec_command = counting  # type: ignore[method-assign]
    try:
        paths = tuple(sorted(p for p in lab_dir.rglob("*") if p.is_file()))
        first = target.deliver(lab_dir, paths)
        assert (first.shipped, first.total, first.removed) == (5, 5, 0)
        assert len(calls) == 2, calls  # manifest + one tar stream: no per-file mkdir or SFTP
        assert (remote / ".lab/openldap/ldif/base.ldif").read_text() == "dn: dc=x\n"
        assert (remote / ".lab/openldap/entrypoint.sh").stat().st_mode & 0o777 == 0o755
        assert (remote / "lab.env").stat().st_mode & 0o777 == 0o600
        assert (remote / "lab.env").read_text() == "SECRET='s3 cr3t'\n"
        assert remote.stat().st_mode & 0o777 == 0o700 and (remote / "data").is_dir()

        calls.clear()
        again = target.deliver(lab_dir, paths)
        assert (again.shipped, again.removed, len(calls)) == (0, 0, 1), calls  # the manifest only

        calls.clear()
        (lab_dir / "scim/app.conf").write_text("a=2\n")
        (lab_dir / "compose.yml").unlink()
        paths = tuple(sorted(p for p in lab_dir.rglob("*") if p.is_file()))
        edit = target.deliver(lab_dir, paths)
        assert (edit.shipped, edit.total, edit.removed, len(calls)) == (1, 4, 1, 2), calls
        assert (remote / ".lab/scim/app.conf").read_text() == "a=2\n"
        assert not (remote / ".lab/compose.yml").exists()
        assert "shipped 1 of 4 files" in str(edit)
    finally:
        target.close()
        shutil.rmtree(remote, ignore_errors=True)


def test_up_with_the_engine_down_ships_nothing(sshd_no_engine: LocalSshd, tmp_path: Path) -> None:
    project = f"noengine{free_port()}"
    d = write_lab(tmp_path / "lab", "", LAB_BIND="127.0.0.1", LAB_PROJECT=project)
    spec = f"root@127.0.0.1:{sshd_no_engine.port}"
    r = lab(d, "up", "--host", spec, "-k", str(sshd_no_engine.key_file), "ldap", timeout=300)
    assert r.returncode == 1, r.stdout + r.stderr
    errors = [line for line in r.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "Docker engine on" in errors[0] and "does not answer" in errors[0], r.stderr
    assert "Traceback" not in r.stderr and "nothing was shipped" in r.stderr
    assert not Path(f"/opt/okta-lab/{project}").exists()  # no lab.env (secrets) reached the host


def test_prepare_docker_takes_an_inventory_name(sshd: LocalSshd, tmp_path: Path) -> None:
    """`prepare-docker NAME` reads the inventory (not DNS); a name it lacks with -i is one line."""
    (tmp_path / "inventory.ini").write_text(f"[docker]\n{sshd.inventory_line('dockerbox')}\n")
    r = lab(tmp_path, "host", "prepare-docker", "dockerbox")
    assert r.returncode == 0, r.stderr
    assert f"dockerbox (root@127.0.0.1:{sshd.port}): Docker ready (" in r.stdout
    missing = lab(tmp_path, "host", "prepare-docker", "dockerbox", "-i", str(tmp_path / "nope.ini"))
    assert missing.returncode == 2 and "nope.ini does not exist" in missing.stderr, missing.stderr


def test_up_authentication_error_names_an_option_up_has(sshd: LocalSshd, tmp_path: Path) -> None:
    d = write_lab(tmp_path / "lab", "", LAB_BIND="127.0.0.1", LAB_PROJECT=f"nokey{free_port()}")
    r = lab(d, "up", "--host", f"root@127.0.0.1:{sshd.port}", "ldap", timeout=120)
    assert r.returncode == 1 and "SSH authentication failed" in r.stderr, r.stderr
    assert "-k/--identity" in r.stderr and "Traceback" not in r.stderr
    assert "--identity" in lab(d, "up", "--help").stdout  # the option the message names exists


@pytest.fixture(scope="module")
def bare_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestHost]:
    """A systemd test host without Docker (the engine cannot run in its unprivileged container)."""
    require_docker()
    build_image()
    host = start_host(make_key(tmp_path_factory.mktemp("bare")))
    try:
        yield host
    finally:
        host.remove()


def test_prepare_docker_as_a_sudo_user_installs_then_shows_why_the_engine_fails(
    bare_host: TestHost, tmp_path: Path
) -> None:
    """As `ubuntu` with passwordless sudo: apt runs through sudo (packages installed, no
    "Permission denied"); the engine cannot start in an unprivileged container, which is one
    error line followed by the engine's last log lines, no traceback."""
    user = bare_host.add_sudo_user("ubuntu")
    (tmp_path / "inventory.ini").write_text(f"[docker]\n{user.inventory_line('cloud')}\n")
    r = lab(tmp_path, "host", "prepare-docker", "cloud", "--docker-group", timeout=1500)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "Traceback" not in r.stderr and "No hosts remaining" not in r.stderr, r.stderr
    errors = [line for line in r.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "the Docker engine on cloud (ubuntu@" in errors[0], r.stderr
    assert "does not start" in errors[0] or "does not answer" in errors[0], errors
    assert "its last log lines:" in r.stderr
    assert bare_host.exec("dpkg-query", "-W", "-f", "${Status}", "docker.io").stdout == "install ok installed"
    # the same host, engine down: `lab up --host` stops before shipping anything
    d = write_lab(tmp_path / "lab", f"[docker]\n{user.inventory_line('cloud')}\n", LAB_BIND="127.0.0.1")
    up = lab(d, "up", "--host", "cloud", "ldap", timeout=300)
    assert up.returncode == 1 and "does not answer" in up.stderr and "Traceback" not in up.stderr, up.stderr
    assert bare_host.exec("test", "-e", "/opt/okta-lab").returncode == 1  # nothing reached the host


def _password_file(path: Path, password: str) -> Path:
    path.write_text(password + "\n")
    path.chmod(0o600)
    return path


def test_sudo_password_missing_or_wrong_is_one_line_exit_2_and_nothing_shipped(
    bare_host: TestHost, tmp_path: Path
) -> None:
    """The test host's password-sudo user: no password given, or a wrong one (file or
    $LAB_BECOME_PASSWORD_FILE), is one line and exit 2 before anything changes; the right one
    gets through sudo (the engine check, which fails in this container, then runs as root)."""
    user = bare_host.add_sudo_user("pwsudo", "a-Passw0rd")
    spec, key = f"pwsudo@127.0.0.1:{user.ssh_port}", str(user.key_file)
    r = lab(tmp_path, "host", "prepare-docker", spec, "-k", key)
    assert r.returncode == 2, r.stdout + r.stderr
    errors = [line for line in r.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "sudo asks for a password" in errors[0], r.stderr
    assert "--become-password-file" in r.stderr and "Traceback" not in r.stderr
    wrong = _password_file(tmp_path / "wrong.pw", "not-the-Passw0rd")
    d = write_lab(tmp_path / "lab", "", LAB_BIND="127.0.0.1")
    for extra, env in ((["--become-password-file", str(wrong)], {}), ([], {"LAB_BECOME_PASSWORD_FILE": str(wrong)})):
        up = subprocess.run(
            [sys.executable, "-m", "lab", "-C", str(d), "up", "--host", spec, "-k", key, *extra, "ldap"],
            capture_output=True, text=True, check=False, timeout=300, env={**os.environ, **env},
        )  # fmt: skip
        assert up.returncode == 2, up.stdout + up.stderr
        errors = [line for line in up.stderr.splitlines() if line.startswith("error:")]
        assert len(errors) == 1 and f"rejected the password in {wrong}" in errors[0], up.stderr
        assert "not-the-Passw0rd" not in up.stdout + up.stderr and "Traceback" not in up.stderr
    assert bare_host.exec("test", "-e", "/opt/okta-lab").returncode == 1  # nothing was shipped
    assert not (d / ".lab" / "lab.json").exists()
    good = ["--become-password-file", str(_password_file(tmp_path / "good.pw", "a-Passw0rd"))]
    prep = lab(tmp_path, "host", "prepare-docker", spec, "-k", key, *good, timeout=1500)  # apt through sudo -S
    assert prep.returncode == 1 and "the Docker engine on" in prep.stderr, prep.stdout + prep.stderr
    assert bare_host.exec("dpkg-query", "-W", "-f", "${Status}", "docker.io").stdout == "install ok installed"
    up = lab(d, "up", "--host", spec, "-k", key, *good, "ldap", timeout=300)
    assert up.returncode == 1 and "does not answer" in up.stderr, up.stdout + up.stderr  # past sudo, as root
    assert "a-Passw0rd" not in prep.stdout + prep.stderr + up.stdout + up.stderr


@pytest.fixture(scope="module")
def local_password_sudo_user(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalSshd, str]]:
    """A login on this machine whose sudo asks for its password ("pw-Sudo 1")."""
    require_docker()
    with _local_login(tmp_path_factory.mktemp("sshd-pwsudo"), "pw-Sudo 1") as login:
        yield login


def test_up_with_password_sudo_runs_the_lab_and_records_only_the_file(
    local_password_sudo_user: tuple[LocalSshd, str], tmp_path: Path
) -> None:
    """`lab up --host` with --become-password-file: the lab starts through `sudo -S` (the
    password on stdin, on no command line); the state records the file's path; later commands
    (status, a resumed no-op `lab up`, destroy) use sudo with that file."""
    server, user = local_password_sudo_user
    project = f"pwsudolab{free_port()}"
    remote = Path(f"/opt/okta-lab/{project}")
    ports = {k: str(free_port()) for k in port_keys()}
    d = write_lab(tmp_path / "lab", "", LAB_BIND="127.0.0.1", LAB_PROJECT=project, **ports)
    pw = _password_file(tmp_path / "sudo.pw", "pw-Sudo 1")
    spec = f"{user}@127.0.0.1:{server.port}"
    try:
        up = lab(d, "up", "--host", spec, "-k", str(server.key_file), "--become-password-file", str(pw), "ldap")
        assert up.returncode == 0, (up.stdout + up.stderr)[-3000:]
        assert (remote / "lab.env").stat().st_uid == 0  # written as root
        state = (d / ".lab" / "lab.json").read_text()
        assert json.loads(state)["target"]["become_file"] == str(pw.resolve())
        assert "pw-Sudo 1" not in state + up.stdout + up.stderr
        status = lab(d, "status", "--json", timeout=120)
        assert status.returncode == 0, status.stderr
        assert {s["service"] for s in json.loads(status.stdout)["services"]} >= {"openldap", "ldap-ui"}
        destroy = lab(d, "destroy", "--yes", timeout=600)
        assert destroy.returncode == 0, destroy.stderr
        assert not remote.exists()
    finally:
        _down(project, remote)


def _down(project: str, remote: Path) -> None:
    if remote.is_dir():
        compose = shutil.which("docker-compose") or "docker-compose"
        subprocess.run(
            [compose, "-p", project, "-f", f"{remote}/.lab/compose.yml", "down", "-v"], capture_output=True, check=False
        )
        shutil.rmtree(remote, ignore_errors=True)


@contextlib.contextmanager
def _local_login(directory: Path, password: str | None) -> Iterator[tuple[LocalSshd, str]]:
    """A non-root login on this machine reached through a private sshd that also reads
    ~/.ssh/authorized_keys; sudo without a password (as `ubuntu` on a cloud image), or with
    `password` (an account password and a plain `ALL` rule: sudo asks for it). Removed after."""
    if not shutil.which("sudo"):
        r = subprocess.run(["apt-get", "install", "-y", "-qq", "sudo"], capture_output=True, text=True, check=False)
        if r.returncode != 0:
            pytest.fail(f"sudo is needed for the sudo-user tests: {r.stderr[-300:]}")
    name = f"labsudo{free_port()}"
    key = make_key(directory)
    rule = Path(f"/etc/sudoers.d/90-{name}")
    subprocess.run(["useradd", "--create-home", "--shell", "/bin/sh", name], check=True)
    try:
        home = Path(f"/home/{name}/.ssh")
        home.mkdir(mode=0o700)
        (home / "authorized_keys").write_text(key.with_suffix(".pub").read_text())
        subprocess.run(["chown", "-R", f"{name}:{name}", str(home)], check=True)
        if password is not None:
            subprocess.run(["chpasswd"], input=f"{name}:{password}\n", text=True, check=True)
        rule.write_text(f"{name} ALL=(ALL:ALL) {'NOPASSWD: ' if password is None else ''}ALL\n")
        rule.chmod(0o440)
        with local_sshd(directory, [f"AuthorizedKeysFile={directory / 'authorized_keys'} .ssh/authorized_keys"]) as s:
            yield s, name
    finally:
        rule.unlink(missing_ok=True)
        subprocess.run(["userdel", "-r", name], capture_output=True, check=False)


@pytest.fixture(scope="module")
def local_sudo_user(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalSshd, str]]:
    """A passwordless-sudo login on this machine (as `ubuntu` on a cloud image)."""
    require_docker()
    with _local_login(tmp_path_factory.mktemp("sshd-sudo"), None) as login:
        yield login


def test_up_as_a_sudo_user_runs_the_lab_through_sudo(local_sudo_user: tuple[LocalSshd, str], tmp_path: Path) -> None:
    """`lab up --host USER@H` as a passwordless-sudo user: the folder under /opt is made (and
    checked) through sudo, the lab starts, creds are read, destroy removes it; one clear line when
    the user has no passwordless sudo is covered by the test host tests."""
    server, user = local_sudo_user
    project = f"sudolab{free_port()}"
    remote = Path(f"/opt/okta-lab/{project}")
    ports = {k: str(free_port()) for k in port_keys()}
    d = write_lab(tmp_path / "lab", "", LAB_BIND="127.0.0.1", LAB_PROJECT=project, **ports)
    spec = f"{user}@127.0.0.1:{server.port}"
    try:
        up = lab(d, "up", "--host", spec, "-k", str(server.key_file), "ldap", timeout=1500)
        assert up.returncode == 0, (up.stdout + up.stderr)[-3000:]
        assert f"lab is up on 127.0.0.1 ({user}@127.0.0.1" in up.stdout
        assert (remote / "lab.env").stat().st_mode & 0o777 == 0o600 and (remote / "lab.env").stat().st_uid == 0
        again = lab(d, "up", "ldap", timeout=600)  # resumes on the recorded host, still through sudo
        assert again.returncode == 0 and "shipped 0 of" in again.stderr, again.stderr[-2000:]
        status = lab(d, "status", "--json", timeout=120)
        assert status.returncode == 0, status.stderr
        assert {s["service"] for s in json.loads(status.stdout)["services"]} >= {"openldap", "ldap-ui"}
        destroy = lab(d, "destroy", "--yes", timeout=600)
        assert destroy.returncode == 0, destroy.stderr
        assert not remote.exists()
    finally:
        compose = shutil.which("docker-compose") or "docker-compose"
        if remote.is_dir():
            subprocess.run(
                [compose, "-p", project, "-f", f"{remote}/.lab/compose.yml", "down", "-v"],
                capture_output=True,
                check=False,
            )
            shutil.rmtree(remote, ignore_errors=True)


def test_prepare_docker_as_a_sudo_user_adds_it_to_the_docker_group(
    local_sudo_user: tuple[LocalSshd, str], tmp_path: Path
) -> None:
    """On this machine (its engine runs): through sudo, idempotent, and `--docker-group` once."""
    server, user = local_sudo_user
    spec = f"{user}@127.0.0.1:{server.port}"
    first = lab(tmp_path, "host", "prepare-docker", spec, "-k", str(server.key_file), "--docker-group")
    assert first.returncode == 0, first.stderr
    assert "docker" in subprocess.run(["id", "-nG", user], capture_output=True, text=True).stdout.split()
    second = lab(tmp_path, "host", "prepare-docker", spec, "-k", str(server.key_file), "--docker-group")
    assert second.returncode == 0 and "Docker ready (0 change(s)" in second.stdout, second.stdout + second.stderr
