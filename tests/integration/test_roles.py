"""The idempotence gate: every role converges a bare test host, and a second run changes nothing.

Adding a role's stack is one `pytest.param` entry in CASES. Every role the playbooks name exists, so
nothing is skipped: a missing role fails the case (without an engine and with CI set, these tests
fail too). Every port the test host publishes is a free loopback port chosen here, so the cases
never collide with other labs running on the same machine.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from lab.config import LabConfig
from lab.context import LabContext
from lab.host.ansible import converge_twice
from lab.host.inventory import load_inventory
from lab.host.playbooks import PLAYBOOKS, load_stack, missing_roles
from lab.host.render import HostFiles, render_host
from lab.targets.host import host_verify, plan, render
from tests.hosts.testhost import (
    TestHost,
    build_image,
    free_port_overrides,
    lab_ports,
    make_key,
    pin_sources,
    port_keys,
    require_docker,
    snapshot_sources,
    start_host,
    write_lab,
)

GROUPS = ("lab", "ldap", "db", "scim", "viewer")
#: The trust store every case starts from: this machine's CAs (TLS interception) plus one made here.
SYSTEM_CAS = "/usr/local/share/ca-certificates"

# Playbook stems, one per stack; `bootstrap` proves the harness and the common role.
CASES = [
    pytest.param("bootstrap", id="common"),
    pytest.param("viewer", id="viewer"),
    pytest.param("jdbc", id="jdbc"),
    pytest.param("ldap", id="ldap"),
]


def _test_ca(directory: Path) -> Path:
    """A throw-away CA certificate the common role must install into the host's trust store."""
    key, crt = directory / "test-ca.key", directory / "okta-lab-test-ca.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
         "-keyout", str(key), "-out", str(crt), "-days", "2", "-subj", "/CN=okta-lab test CA"],
        check=True, capture_output=True,
    )  # fmt: skip
    return crt


@pytest.fixture(scope="module")
def native_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LabContext, TestHost]]:
    """One bare test host for the module, every inventory group pointing at it."""
    require_docker()
    build_image()
    root = tmp_path_factory.mktemp("native")
    key = make_key(root)
    ports = free_port_overrides(port_keys())
    ca = _test_ca(root)
    write_lab(root / "lab", "", LAB_EXTRA_CA_CERTS=f"{SYSTEM_CAS},{ca}", **SYNC_ENV, **ports)
    published = lab_ports(root / "lab" / ".env")
    assert published == sorted({int(p) for p in ports.values()}), "a published port was not chosen here"
    host = start_host(key, published)
    _install_fake_sft(host)
    inventory = "".join(f"[{g}]\n{host.inventory_line('testhost')}\n\n" for g in GROUPS)
    (root / "lab" / "inventory.ini").write_text(inventory)
    snapshot_sources(root)
    try:
        yield LabContext(root=root / "lab"), host
    finally:
        host.remove()


#: The viewer's sync service on the test host (test_viewer_sync_service_on_the_host).
SYNC_ENV = {
    "VIEWER_SYNC_SOURCE_DIR": "/var/log/sft/sessions",
    "VIEWER_SYNC_UPLOAD_SOURCE": "true",
    "VIEWER_SYNC_DELETE_AFTER_UPLOAD": "true",
    "VIEWER_SYNC_SUMMARY_EVERY": "1",
}


def _install_fake_sft(host: TestHost) -> None:
    """An `sft` that converts like the OPA client (the real one is a vendor package)."""
    from tests.unit.test_viewer_seed_sync import FAKE_SFT

    script = FAKE_SFT.replace('"$(dirname "$0")/calls.log"', "/var/lib/okta-lab-viewer-sync/sft-calls.log")
    r = host.exec("sh", "-c", f"cat > /usr/local/bin/sft <<'EOF'\n{script}EOF\nchmod 0755 /usr/local/bin/sft")
    assert r.returncode == 0, r.stderr


def _files(ctx: LabContext, stack: str) -> HostFiles:
    if stack == "bootstrap":  # the bootstrap playbook alone: no content to render
        cfg = LabConfig.from_env(ctx.env_path)
        inventory = load_inventory(ctx.root / "inventory.ini")
        return render_host(cfg, inventory, ctx.lab_dir / "host", ctx.lab_dir, ctx.packages_dir)
    files = render(ctx, plan(ctx, [stack]))
    pin_sources(files.group_vars.parent, snapshot_sources(ctx.root.parent))
    return files


@pytest.mark.docker
@pytest.mark.slow
@pytest.mark.parametrize("stack", CASES)
def test_converges_twice_without_changes(native_lab: tuple[LabContext, TestHost], stack: str) -> None:
    ctx, _host = native_lab
    playbook = PLAYBOOKS / f"{stack}.yml"
    if stack != "bootstrap":
        assert not missing_roles(load_stack(stack)), f"stack {stack}: role(s) not in roles/"
    result = converge_twice(_files(ctx, stack), playbook)
    assert result.first.ok
    assert result.first.hosts and result.first.hosts[0].failed == 0
    assert not result.changed_on_second, result.report()
    assert result.second.changed == 0
    if stack != "bootstrap":  # the same tests/infra checks as the Docker target
        report = host_verify(ctx, [stack])
        failed = [
            f"{r.component}::{r.name}: {r.message}" for r in report.results if r.outcome not in ("passed", "skipped")
        ]
        assert report.ok, "\n".join(failed)
    if stack == "jdbc":  # `lab creds` reads the token where the scim role keeps it, over SSH
        _assert_creds_show_the_native_token(ctx, _host)


def _assert_creds_show_the_native_token(ctx: LabContext, host: TestHost) -> None:
    on_host = host.exec("cat", "/var/lib/okta-lab-scim/token")
    assert on_host.returncode == 0 and on_host.stdout.strip(), on_host.stderr
    proc = subprocess.run(
        [sys.executable, "-m", "lab", "-C", str(ctx.root), "creds", "scim", "--json"],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    card = {e["label"]: e["value"] for e in json.loads(proc.stdout)}
    assert card["SCIM token"] == f"Bearer {on_host.stdout.strip()}", "lab creds did not read the host's token"
    assert card["SCIM certificate"] == "testhost:/var/lib/okta-lab-scim/scim.crt"


@pytest.mark.docker
def test_bootstrap_left_the_host_ready(native_lab: tuple[LabContext, TestHost]) -> None:
    """The common role's observable result: tools present, marker file with the project name."""
    ctx, host = native_lab
    converge_twice(_files(ctx, "bootstrap"), PLAYBOOKS / "bootstrap.yml")
    r = host.exec(
        "sh",
        "-c",
        "cat /opt/okta-lab/lab-host.conf; for c in ss ps debconf-get-selections; do command -v $c; done",
    )
    assert r.returncode == 0, r.stderr
    assert "project=oktalab" in r.stdout
    for tool in ("/ss", "/ps", "/debconf-get-selections"):
        assert tool in r.stdout


@pytest.mark.docker
def test_bootstrap_trusts_the_extra_cas(native_lab: tuple[LabContext, TestHost]) -> None:
    """The CAs the images trust land in the host's store, and leave it when no longer configured."""
    ctx, host = native_lab
    files = _files(ctx, "bootstrap")
    cas = yaml.safe_load(files.group_vars.read_text())["common_extra_ca_certs"]
    assert "okta-lab-test-ca.crt" in cas
    converge_twice(files, PLAYBOOKS / "bootstrap.yml")
    listed = host.exec("ls", "/usr/local/share/ca-certificates/okta-lab")
    assert sorted(listed.stdout.split()) == sorted(cas)
    bundle = host.exec("cat", "/etc/ssl/certs/ca-certificates.crt").stdout
    assert cas["okta-lab-test-ca.crt"].strip() in bundle
    # Dropped from the config: the next converge removes it from the store.
    text = ctx.env_path.read_text()
    ctx.env_path.write_text(re.sub(r"(?m)^LAB_EXTRA_CA_CERTS=.*$", f"LAB_EXTRA_CA_CERTS={SYSTEM_CAS}", text))
    try:
        files = _files(ctx, "bootstrap")
        assert "okta-lab-test-ca.crt" not in yaml.safe_load(files.group_vars.read_text())["common_extra_ca_certs"]
        converge_twice(files, PLAYBOOKS / "bootstrap.yml")
        assert "okta-lab-test-ca.crt" not in host.exec("ls", "/usr/local/share/ca-certificates/okta-lab").stdout
        assert cas["okta-lab-test-ca.crt"].strip() not in host.exec("cat", "/etc/ssl/certs/ca-certificates.crt").stdout
    finally:
        ctx.env_path.write_text(text)


@pytest.mark.docker
def test_viewer_sync_service_on_the_host(native_lab: tuple[LabContext, TestHost]) -> None:
    """The hardened sync unit: an .asa written as root is converted into the viewer's folder
    (readable by the viewer), its original uploaded, the source deleted after the confirmed
    upload, a summary in the journal; the unit writes nowhere but its paths."""
    ctx, host = native_lab
    if host.exec("systemctl", "is-enabled", "okta-lab-viewer-sync").returncode != 0:
        converge_twice(_files(ctx, "viewer"), PLAYBOOKS / "viewer.yml")  # when run alone
    unit = "okta-lab-viewer-sync"
    props = host.exec("systemctl", "show", unit, "-p", "ActiveState,ProtectSystem,ReadWritePaths,NoNewPrivileges")
    assert "ActiveState=active" in props.stdout, host.exec("journalctl", "-u", unit, "--no-pager", "-n", "30").stdout
    assert "ProtectSystem=strict" in props.stdout and "NoNewPrivileges=yes" in props.stdout
    assert "/var/log/sft/sessions" in props.stdout and "/var/lib/okta-lab-viewer/recordings" in props.stdout
    name = "ssh~20260301T101010.123~team~proj~srv-01~luke~-1-abc"
    src = f"/var/log/sft/sessions/{name}.asa"
    write = f"umask 077; printf ASA > {src}.part && mv {src}.part {src}"  # root-only, like sft-gatewayd
    assert host.exec("sh", "-c", write).returncode == 0
    cast = f"/var/lib/okta-lab-viewer/recordings/{name}.cast"
    deadline = time.monotonic() + 60
    while (
        host.exec("test", "!", "-e", f"/var/log/sft/sessions/{name}.asa").returncode != 0
        or host.exec("test", "-e", cast).returncode != 0
    ):
        assert time.monotonic() < deadline, host.exec("journalctl", "-u", unit, "--no-pager", "-n", "30").stdout
        time.sleep(1)
    assert host.exec("runuser", "-u", "viewer", "--", "head", "-c", "12", cast).stdout.startswith('{"version"')
    assert host.exec("cat", f"/var/lib/okta-lab-viewer/recordings/sources/{name}.asa").stdout == "ASA"
    journal = host.exec("journalctl", "-u", unit, "--no-pager", "-o", "cat").stdout
    assert "sync summary after 1 files: 2 objects uploaded" in journal
