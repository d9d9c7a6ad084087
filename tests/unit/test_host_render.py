"""`.lab/host/` rendering and the checks `lab host` runs before touching any host."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
import yaml

from lab.config import LabConfig
from lab.context import LabContext
from lab.envfile import generate_secret, secret_lengths, write_env
from lab.errors import ConfigError
from lab.host.inventory import load_inventory
from lab.host.playbooks import available_stacks, load_stack, role_env_map
from lab.host.render import render_host, role_vars
from lab.targets.host import plan


@pytest.fixture
def project(tmp_path: Path) -> Path:
    values = {k: generate_secret(n) for k, n in secret_lengths().items() if "_S3_" not in k}
    write_env(tmp_path / ".env", force=True, overrides={**values, "LAB_PROJECT": "demo"})
    (tmp_path / "inventory.ini").write_text(
        "[ldap]\nh1 ansible_host=127.0.0.1 ansible_port=2201\n[db]\nh2\n[scim]\nh2\n[viewer]\nh1\n"
    )
    return tmp_path


def test_renders_inventory_vars_and_config(project: Path) -> None:
    cfg = LabConfig.from_env(project / ".env")
    files = render_host(cfg, load_inventory(project / "inventory.ini"), project / ".lab" / "host", project / ".lab")
    assert "h1 ansible_host=127.0.0.1" in files.inventory.read_text()
    data = yaml.safe_load(files.group_vars.read_text())
    assert data["lab_project"] == "demo" and data["common_project"] == "demo"
    assert data["lab_env"]["LDAP_ADMIN_PASSWORD"] == cfg.ldap.admin_password
    assert data["lab_env"]["LDAP_BASE_DN"] == cfg.ldap.base_dn
    assert data["lab_render_dir"] == str((project / ".lab").resolve())
    assert stat.S_IMODE(files.group_vars.stat().st_mode) == 0o600  # it holds secrets
    assert stat.S_IMODE(files.root.stat().st_mode) == 0o700
    assert "StrictHostKeyChecking=accept-new" in files.ansible_cfg.read_text()
    targets = json.loads(files.targets.read_text())
    assert targets["groups"]["ldap"]["port"] == 2201
    assert targets["groups"]["db"]["address"] == "h2"


def test_render_is_stable(project: Path) -> None:
    cfg = LabConfig.from_env(project / ".env")
    inv = load_inventory(project / "inventory.ini")
    files = render_host(cfg, inv, project / ".lab" / "host", project / ".lab")
    before = {p: p.stat().st_mtime_ns for p in files.root.rglob("*") if p.is_file()}
    render_host(cfg, inv, project / ".lab" / "host", project / ".lab")
    assert before == {p: p.stat().st_mtime_ns for p in files.root.rglob("*") if p.is_file()}


def test_role_vars_come_from_lab_env_specs(project: Path) -> None:
    assert role_env_map("common") == {"common_project": "LAB_PROJECT"}
    assert role_vars(LabConfig.from_env(project / ".env"))["common_project"] == "demo"


def test_stacks_are_read_from_playbooks() -> None:
    assert {"ldap", "jdbc", "viewer"} <= set(available_stacks())
    jdbc = load_stack("jdbc")
    assert jdbc.groups == ("db", "scim") and "mariadb" in jdbc.roles
    assert jdbc.group_of_role("scim") == "scim"
    assert load_stack("bootstrap").groups == ("all",)


def test_unknown_stack(project: Path) -> None:
    with pytest.raises(ConfigError, match="no playbook for stack 'nope'"):
        plan(LabContext(root=project), ["nope"])


def test_empty_group_and_missing_inventory(project: Path) -> None:
    (project / "inventory.ini").write_text("[ldap]\n\n[viewer]\n")
    with pytest.raises(ConfigError) as exc:
        plan(LabContext(root=project), ["viewer"])
    assert "group [viewer] used by stack viewer has no hosts" in str(exc.value)
    (project / "inventory.ini").unlink()
    with pytest.raises(ConfigError, match="does not exist"):
        plan(LabContext(root=project), ["bootstrap"])


def test_plan_lists_hosts_once(project: Path) -> None:
    p = plan(LabContext(root=project), ["bootstrap"])
    assert [t.name for t in p.targets] == ["h1", "h2"]


PEM = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n"


def test_extra_cas_are_rendered_for_the_common_role(project: Path) -> None:
    """The hosts trust the same CAs as the image builds: LAB_EXTRA_CA_CERTS plus packages/*.crt."""
    cas = project / "cas"
    cas.mkdir()
    (cas / "corp.pem").write_text(PEM)
    (cas / "notes.crt").write_text("not a certificate")
    packages = project / "packages"
    packages.mkdir()
    (packages / "vendor.crt").write_text(PEM)
    with (project / ".env").open("a") as fh:
        fh.write(f"LAB_EXTRA_CA_CERTS={cas}\n")
    cfg = LabConfig.from_env(project / ".env")
    files = render_host(
        cfg, load_inventory(project / "inventory.ini"), project / ".lab" / "host", project / ".lab", packages
    )
    data = yaml.safe_load(files.group_vars.read_text())
    assert data["common_extra_ca_certs"] == {"corp.crt": PEM, "vendor.crt": PEM}


def test_no_extra_cas_renders_an_empty_map(project: Path) -> None:
    with (project / ".env").open("a") as fh:
        fh.write("LAB_EXTRA_CA_CERTS=\n")
    cfg = LabConfig.from_env(project / ".env")
    files = render_host(cfg, load_inventory(project / "inventory.ini"), project / ".lab" / "host", project / ".lab")
    assert yaml.safe_load(files.group_vars.read_text())["common_extra_ca_certs"] == {}
