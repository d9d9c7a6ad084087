"""The Docker target end to end, with compose v2 and with compose v1, on the openldap service."""

from __future__ import annotations

import json
import os
import shutil
import socket
import time
from pathlib import Path

import docker
import ldap3
import pytest

from tests.conftest import LabHandle, free_port, init_lab, lab_cli

pytestmark = pytest.mark.docker


def containers(handle: LabHandle) -> dict[str, str]:
    client = docker.from_env()
    found = client.containers.list(all=True, filters={"label": f"com.docker.compose.project={handle.cfg.core.project}"})
    return {c.labels["com.docker.compose.service"]: c.id for c in found}


@pytest.fixture(scope="module", params=["v2", "v1"])
def ldap_lab(request, make_lab) -> LabHandle:  # type: ignore[no-untyped-def]
    return make_lab(
        ["ldap"],
        {"LAB_STACKS": "ldap"},
        up=False,
        process_env={"LAB_COMPOSE": request.param},
        name=f"docker-{request.param}",
    )


def test_up_brings_openldap_up_healthy(ldap_lab: LabHandle) -> None:
    proc = ldap_lab.up("openldap")
    assert "openldap healthy" in proc.stdout
    assert "Bind DN" in proc.stdout and "passwords hidden" in proc.stdout, "the masked demo card is printed"
    status = json.loads(ldap_lab.run("status", "--json").stdout)
    assert [(s["service"], s["state"], s["health"]) for s in status["services"]] == [("openldap", "running", "healthy")]
    state = json.loads((ldap_lab.dir / ".lab" / "lab.json").read_text())
    assert state["compose"].startswith(ldap_lab.env["LAB_COMPOSE"])


def test_no_secret_in_output_or_logs(ldap_lab: LabHandle) -> None:
    proc = ldap_lab.run("up", "openldap")
    logs = ldap_lab.run("logs", "--tail", "500")
    state = (ldap_lab.dir / ".lab" / "lab.json").read_text()
    compose = (ldap_lab.dir / ".lab" / "compose.yml").read_text()
    for value in ldap_lab.cfg.secrets().values():
        if value:
            for text in (proc.stdout, proc.stderr, logs.stdout, logs.stderr, state, compose):
                assert value not in text


def test_second_up_recreates_nothing(ldap_lab: LabHandle) -> None:
    before = containers(ldap_lab)
    started = time.monotonic()
    proc = ldap_lab.up("openldap")
    elapsed = time.monotonic() - started
    assert containers(ldap_lab) == before
    assert "built" not in proc.stderr
    assert elapsed < 30, f"a no-op `lab up` took {elapsed:.1f}s"


def test_verify_passes(ldap_lab: LabHandle) -> None:
    proc = ldap_lab.verify("openldap")
    assert "checks passed" in proc.stdout


def test_data_survives_down_and_up(ldap_lab: LabHandle) -> None:
    cfg = ldap_lab.cfg
    dn = f"ou=Kept,{cfg.ldap.base_dn}"
    conn = ldap3.Connection(
        ldap3.Server("127.0.0.1", port=cfg.ldap.port), cfg.ldap.admin_dn, cfg.ldap.admin_password, auto_bind=True
    )
    conn.add(dn, "organizationalUnit", {"ou": "Kept"})
    assert conn.result["result"] in (0, 68)
    ldap_lab.run("down")
    assert containers(ldap_lab) == {}
    assert (ldap_lab.dir / "data" / "openldap").is_dir()
    ldap_lab.up("openldap")
    conn = ldap3.Connection(
        ldap3.Server("127.0.0.1", port=cfg.ldap.port), cfg.ldap.admin_dn, cfg.ldap.admin_password, auto_bind=True
    )
    assert conn.search(dn, "(objectClass=*)", search_scope=ldap3.BASE)


def test_creds_shows_the_password_on_purpose(ldap_lab: LabHandle) -> None:
    proc = ldap_lab.run("creds", "openldap")
    assert ldap_lab.cfg.ldap.admin_password in proc.stdout
    up = ldap_lab.run("up", "--creds", "openldap")  # what `make up` runs: one card, with the passwords
    assert ldap_lab.cfg.ldap.admin_password in up.stdout and "passwords hidden" not in up.stdout
    assert up.stdout.count("Bind DN") == 1


def test_backup_and_restore_bring_back_the_state(ldap_lab: LabHandle, tmp_path: Path) -> None:
    cfg = ldap_lab.cfg
    archive = tmp_path / "lab.tar.gz"
    ldap_lab.run("backup", str(archive))
    assert oct(archive.stat().st_mode & 0o777) == "0o600"
    server = ldap3.Server("127.0.0.1", port=cfg.ldap.port)
    dn = f"ou=AfterBackup,{cfg.ldap.base_dn}"
    conn = ldap3.Connection(server, cfg.ldap.admin_dn, cfg.ldap.admin_password, auto_bind=True)
    assert conn.add(dn, "organizationalUnit", {"ou": "AfterBackup"}), conn.result
    ldap_lab.run("restore", "--yes", str(archive))
    conn = ldap3.Connection(server, cfg.ldap.admin_dn, cfg.ldap.admin_password, auto_bind=True)
    assert not conn.search(dn, "(objectClass=*)", search_scope=ldap3.BASE), "restore brings back the backed-up state"
    assert conn.search(f"ou=Kept,{cfg.ldap.base_dn}", "(objectClass=*)", search_scope=ldap3.BASE)


def test_restore_refuses_what_is_not_a_backup(ldap_lab: LabHandle, tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.tar.gz"
    bogus.write_bytes(b"not an archive")
    proc = ldap_lab.run("restore", "--yes", str(bogus), check=False)
    assert proc.returncode == 2
    assert "cannot be read" in proc.stderr or "is not a lab backup" in proc.stderr


def test_destroy_removes_containers_and_data(ldap_lab: LabHandle) -> None:
    ldap_lab.run("destroy", "--yes")
    assert containers(ldap_lab) == {}
    assert not (ldap_lab.dir / "data").exists()
    assert not (ldap_lab.dir / ".lab").exists()


# -- bad input that needs the machine ----------------------------------------------------------


@pytest.fixture()
def fresh(tmp_path: Path, docker_engine: None) -> Path:
    return init_lab(tmp_path / "lab", ["ldap"])


def _nothing_started(root: Path) -> None:
    assert not (root / ".lab" / "compose.yml").exists()
    assert not (root / "data").exists()


def test_host_port_in_use_is_refused(fresh: Path) -> None:
    from lab.config import LabConfig

    port = LabConfig.from_env(fresh / ".env").ldap.port
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))
        s.listen()
        proc = lab_cli(fresh, "up", "openldap", check=False)
    assert proc.returncode == 2
    assert (
        f"host port {port} (LDAP_PORT) is already in use on 127.0.0.1 — stop what uses it or set LDAP_PORT"
        in proc.stderr
    )
    _nothing_started(fresh)


def test_no_engine_is_refused(fresh: Path) -> None:
    proc = lab_cli(fresh, "up", "openldap", check=False, env={"DOCKER_HOST": f"unix://{fresh}/no.sock"})
    assert proc.returncode == 2
    assert "error: cannot reach the Docker engine — start it (`lab engine setup`" in proc.stderr
    _nothing_started(fresh)


def test_no_compose_is_refused(fresh: Path, tmp_path: Path) -> None:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    python = shutil.which("python3") or "/usr/bin/python3"
    (bindir / "python3").symlink_to(python)
    proc = lab_cli(fresh, "up", "openldap", check=False, env={"PATH": str(bindir)})
    assert proc.returncode == 2
    assert "neither `docker compose` (v2) nor `docker-compose` (v1) is installed" in proc.stderr
    _nothing_started(fresh)


def test_missing_env_is_refused_before_docker(tmp_path: Path) -> None:
    proc = lab_cli(tmp_path, "up", check=False)
    assert proc.returncode == 2
    assert "does not exist — run `lab init`" in proc.stderr


def test_doctor_reports_engine_compose_and_ports(fresh: Path) -> None:
    proc = lab_cli(fresh, "doctor", "ldap", "--json", check=False)
    report = json.loads(proc.stdout)
    names = {c["name"] for c in report["checks"]}
    assert {".env", "engine", "compose", "base image", "disk", "port"} <= names
    assert all(c["fix"] for c in report["checks"] if not c["ok"])
    composes = [c["detail"] for c in report["checks"] if c["name"] == "compose"]
    assert any("v2" in d for d in composes) and any("v1" in d for d in composes)
    _ = free_port, os
