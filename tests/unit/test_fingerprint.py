"""The no-op `lab up` fingerprint: what invalidates it, and which containers satisfy it."""

from __future__ import annotations

import io
import shutil
from pathlib import Path
from typing import Any

import pytest

from lab import RESOURCES, fingerprint
from lab.fingerprint import Fingerprint, containers_satisfied, fast_up, inputs_digest, parse_up_argv


def doc(service: str, status: str = "running", health: str | None = "healthy", **over: Any) -> dict[str, Any]:
    state: dict[str, Any] = {"Status": status, "Restarting": False, "Paused": False}
    if health is not None:
        state["Health"] = {"Status": health}
    state.update(over.pop("state", {}))
    labels = {fingerprint.SERVICE_LABEL: service, fingerprint.CONFIG_HASH_LABEL: over.pop("config_hash", "abc")}
    return {"State": state, "Config": {"Image": over.pop("image", f"okta-lab/{service}:1"), "Labels": labels}}


EXPECTED = {"openldap": {"image": "okta-lab/openldap:1", "config_hash": "abc"}}


@pytest.mark.parametrize(
    ("inspected", "ok"),
    [
        ([doc("openldap")], True),
        ([doc("openldap", health=None)], True),  # no health check: running is enough
        ([doc("openldap", status="exited")], False),
        ([doc("openldap", health="unhealthy")], False),
        ([doc("openldap", health="starting")], False),
        ([doc("openldap", state={"Restarting": True})], False),
        ([doc("openldap", status="paused", state={"Paused": True})], False),
        ([doc("openldap", image="okta-lab/openldap:2")], False),  # rebuilt or started by hand
        ([doc("openldap", config_hash="other")], False),  # recreated from another compose file
        ([doc("openldap"), doc("openldap", status="exited")], False),  # every replica counts
        ([], False),
        ([doc("ldap-ui")], False),
    ],
)
def test_only_running_healthy_containers_of_the_recorded_config_satisfy(inspected: list[Any], ok: bool) -> None:
    assert containers_satisfied(inspected, ["openldap"], EXPECTED) is ok


@pytest.mark.parametrize(
    ("argv", "parsed"),
    [
        (["up"], (Path("."), None, [])),
        (["up", "ldap", "viewer"], (Path("."), None, ["ldap", "viewer"])),
        (["-C", "/x", "up", "openldap"], (Path("/x"), None, ["openldap"])),
        (["--dir=/x", "--env-file", "e", "up"], (Path("/x"), Path("e"), [])),
        (["up", "--creds"], None),
        (["up", "--rebuild"], None),
        (["up", "--host", "h"], None),
        (["up", "--dry-run"], None),
        (["--dry-run", "up"], None),
        (["-v", "up"], None),
        (["status"], None),
        ([], None),
        (["-C"], None),
    ],
)
def test_only_a_plain_up_takes_the_fast_path(argv: list[str], parsed: object) -> None:
    assert parse_up_argv(argv) == parsed


@pytest.fixture
def checkout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the toolkit's own trees, so a test can change a template."""
    copy = tmp_path / "checkout"
    for top in ("compose", "templates"):
        shutil.copytree(RESOURCES / top, copy / top)
    (copy / "lab").mkdir()
    (copy / "lab" / "render.py").write_text("# stand-in\n")
    (copy / "pyproject.toml").write_text("[project]\n")
    monkeypatch.setattr(fingerprint, "RESOURCES", copy)
    return copy


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "lab"
    (root / ".lab").mkdir(parents=True)
    (root / ".env").write_text("LAB_STACKS=ldap\nLDAP_DOMAIN=galaxy.universe\n")
    (root / ".lab" / "compose.yml").write_text("services: {}\n")
    (root / ".lab" / "lab.json").write_text("{}\n")
    return root


def test_the_digest_is_stable_when_nothing_changed(checkout: Path, project: Path) -> None:
    env = project / ".env"
    assert inputs_digest(project, env, ["ldap"]) == inputs_digest(project, env, ["ldap"])
    assert fingerprint.outputs_digest(project) == fingerprint.outputs_digest(project)


def changes(checkout: Path, project: Path) -> dict[str, Any]:
    def touch_template() -> None:
        path = next((checkout / "templates").rglob("*.j2"))
        path.write_text(path.read_text() + "# changed\n")

    def add_template() -> None:
        (checkout / "compose" / "openldap" / "new.ldif.j2").write_text("dn: x\n")

    def env_value() -> None:
        (project / ".env").write_text("LAB_STACKS=ldap\nLDAP_DOMAIN=example.org\n")

    def env_stacks() -> None:  # stack selection through .env
        (project / ".env").write_text("LAB_STACKS=ldap,jdbc\nLDAP_DOMAIN=galaxy.universe\n")

    def vendor_package() -> None:
        (project / "packages").mkdir(exist_ok=True)
        (project / "packages" / "OktaLDAPAgent-1.deb").write_bytes(b"x")

    def source() -> None:
        (checkout / "lab" / "render.py").write_text("# stand-in, edited\n")

    return {
        "a template's content": touch_template,
        "a new template": add_template,
        "a value in .env": env_value,
        "LAB_STACKS in .env": env_stacks,
        "a vendor package in packages/": vendor_package,
        "the toolkit's source": source,
    }


@pytest.mark.parametrize(
    "what",
    [
        "a template's content",
        "a new template",
        "a value in .env",
        "LAB_STACKS in .env",
        "a vendor package in packages/",
        "the toolkit's source",
    ],
)
def test_any_input_change_invalidates(checkout: Path, project: Path, what: str) -> None:
    before = inputs_digest(project, project / ".env", ["ldap"])
    changes(checkout, project)[what]()
    assert inputs_digest(project, project / ".env", ["ldap"]) != before, what


def test_stack_selection_watched_files_and_compose_variables_invalidate(
    checkout: Path, project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = project / ".env"
    company = tmp_path / "company.yaml"
    company.write_text("people: []\n")
    base = inputs_digest(project, env, ["ldap"], [str(company)])
    assert inputs_digest(project, env, ["ldap", "jdbc"], [str(company)]) != base
    assert inputs_digest(project, env, [], [str(company)]) != base
    monkeypatch.setenv("LAB_COMPOSE", "v1")
    assert inputs_digest(project, env, ["ldap"], [str(company)]) != base
    monkeypatch.delenv("LAB_COMPOSE")
    company.write_text("people: [{uid: x}]\n")
    assert inputs_digest(project, env, ["ldap"], [str(company)]) != base


def test_a_rewritten_compose_file_or_state_invalidates(project: Path) -> None:
    before = fingerprint.outputs_digest(project)
    (project / ".lab" / "compose.yml").write_text("services: {x: {}}\n")
    assert fingerprint.outputs_digest(project) != before


def record_for(project: Path, names: list[str]) -> Fingerprint:
    inputs = inputs_digest(project, project / ".env", names)
    fp = Fingerprint(
        digest=fingerprint.digest(inputs, fingerprint.outputs_digest(project)),
        names=names,
        project="t1",
        services=["openldap"],
        containers=EXPECTED,
        card=[["openldap", "LDAP URL", "ldap://127.0.0.1:1389", False], ["openldap", "Password", "********", True]],
        notes=["LAB_BIND=0.0.0.0 publishes every lab port on all interfaces; ..."],
    )
    fp.save(project / ".lab")
    return fp


def test_fast_up_prints_the_recorded_card_when_nothing_changed(
    checkout: Path, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    record_for(project, ["openldap"])
    monkeypatch.setattr(fingerprint, "engine_socket", lambda: "/nonexistent.sock")
    monkeypatch.setattr(fingerprint, "inspect_project", lambda project, sock: [doc("openldap")])
    out, err = io.StringIO(), io.StringIO()
    assert fast_up(["-C", str(project), "up", "openldap"], out, err)
    text = out.getvalue()
    assert text.startswith("lab is up: openldap healthy (nothing changed")
    assert "  LDAP URL  ldap://127.0.0.1:1389" in text and "passwords hidden" in text
    assert err.getvalue().startswith("› LAB_BIND=0.0.0.0")
    assert (project / ".lab" / fingerprint.RECORD).stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("why", ["stopped", "unhealthy", "other arguments", ".env", "no record", "remote engine"])
def test_fast_up_declines(checkout: Path, project: Path, monkeypatch: pytest.MonkeyPatch, why: str) -> None:
    record_for(project, ["openldap"])
    state = {"stopped": doc("openldap", status="exited"), "unhealthy": doc("openldap", health="unhealthy")}
    monkeypatch.setattr(fingerprint, "engine_socket", lambda: "/nonexistent.sock")
    monkeypatch.setattr(fingerprint, "inspect_project", lambda project, sock: [state.get(why, doc("openldap"))])
    names = ["openldap"]
    if why == "other arguments":
        names = ["openldap", "ldap-ui"]
    elif why == ".env":
        (project / ".env").write_text("LAB_STACKS=ldap\nLDAP_DOMAIN=example.org\n")
    elif why == "no record":
        fingerprint.forget(project / ".lab")
    elif why == "remote engine":
        monkeypatch.undo()
        monkeypatch.setattr(fingerprint, "RESOURCES", checkout)
        monkeypatch.setenv("DOCKER_HOST", "ssh://someone@elsewhere")
    out = io.StringIO()
    assert not fast_up(["-C", str(project), "up", *names], out, io.StringIO())
    assert out.getvalue() == ""


def test_an_unreachable_engine_declines(checkout: Path, project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    record_for(project, ["openldap"])
    monkeypatch.setenv("DOCKER_HOST", f"unix://{project}/no-such.sock")
    assert not fast_up(["-C", str(project), "up", "openldap"], io.StringIO(), io.StringIO())
