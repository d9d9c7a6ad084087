"""The okta-ldap-agent image with a fake vendor .deb: install, answers file, CA import, waiting
for registration, registration via the vendor script, persistence, and a broken package."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from lab import RESOURCES

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fakes" / "deb"))
from okta_ldap_agent import build_fake_agent_deb, write_invalid_deb  # noqa: E402

pytestmark = pytest.mark.docker
IMAGE = "okta-lab-test/okta-ldap-agent:fake"
HOME = "/opt/Okta/OktaLDAPAgent"


def build_context(tmp: Path, deb_maker) -> Path:  # type: ignore[no-untyped-def]
    ctx = tmp / "ctx"
    shutil.copytree(RESOURCES / "compose" / "okta-ldap-agent", ctx)
    deb_maker(ctx / "packages")
    return ctx


def docker(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=check)


def wait_for(fn, timeout: float = 60) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not fn():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.5)


@pytest.fixture(scope="module")
def agent(docker_engine: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    tmp = tmp_path_factory.mktemp("agent")
    docker("build", "--force-rm", "-q", "-t", IMAGE, str(build_context(tmp, build_fake_agent_deb)))
    data = tmp / "data"
    for sub in ("conf", "lib", "logs"):
        (data / sub).mkdir(parents=True)
    ca = tmp / "ca.crt"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=test CA", "-keyout", str(tmp / "ca.key"), "-out", str(ca)],
        check=True, capture_output=True,
    )  # fmt: skip
    name = f"agenttest-{tmp.name}"
    run = [
        "run", "-d", "--init", "--name", name,
        "-e", "OKTA_ORG=acme.okta.com", "-e", "LDAP_BASE_DN=dc=galaxy,dc=universe",
        "-v", f"{data / 'conf'}:{HOME}/conf", "-v", f"{data / 'lib'}:/var/lib/oktaldapagent",
        "-v", f"{data / 'logs'}:{HOME}/logs", "-v", f"{ca}:/certs/ca.crt:ro", IMAGE,
    ]  # fmt: skip
    docker(*run)
    yield name, data
    docker("rm", "-f", name, check=False)


def health(name: str) -> subprocess.CompletedProcess[str]:
    return docker("exec", name, "/usr/local/lib/okta-lab/healthcheck.sh", check=False)


def test_waits_for_registration_and_says_so(agent: tuple[str, Path]) -> None:
    name, _ = agent
    wait_for(lambda: "waiting for registration" in docker("logs", name).stdout)
    probe = health(name)
    assert probe.returncode == 0 and probe.stdout.strip() == "waiting for registration"


def test_answers_file_points_at_ldaps_openldap(agent: tuple[str, Path]) -> None:
    _, data = agent
    answers = (data / "conf" / "InstallOktaLDAPAgent.conf").read_text()
    for line in ("orgUrl=https://acme.okta.com/", "ldapHost=openldap", "ldapPort=1636",
                 "baseDN=dc=galaxy,dc=universe", "ldapUseSSL=true",
                 "ldapAdminDN=cn=admin,dc=galaxy,dc=universe"):  # fmt: skip
        assert line in answers.splitlines()
    assert (data / "conf" / "logback.xml").exists(), "packaged conf files seed the data folder"


def test_lab_ca_is_imported_into_the_agent_jre(agent: tuple[str, Path]) -> None:
    name, _ = agent
    out = docker("exec", name, "cat", f"{HOME}/jre/lib/security/keytool.log").stdout
    assert "-importcert" in out and "-alias okta-lab-ca" in out and "/certs/ca.crt" in out


def test_registration_starts_the_agent_and_persists(agent: tuple[str, Path]) -> None:
    name, data = agent
    docker("exec", name, f"{HOME}/scripts/configure_agent.sh")
    wait_for(lambda: health(name).stdout.strip() == "running" and health(name).returncode == 0)
    assert (data / "lib" / "security" / "OktaLdapKeystore.p12").exists()
    docker("restart", name)
    wait_for(lambda: health(name).stdout.strip() == "running" and health(name).returncode == 0)
    assert "fake OktaLDAPAgent started" in (data / "logs" / "agent.log").read_text()


def test_invalid_package_fails_the_build_with_one_clear_line(docker_engine: None, tmp_path: Path) -> None:
    ctx = build_context(tmp_path, write_invalid_deb)
    proc = docker("build", "--force-rm", "-t", "okta-lab-test/agent-broken", str(ctx), check=False)
    assert proc.returncode != 0
    text = proc.stdout + proc.stderr
    assert "OktaLDAPAgent-00.00.00-broken.x86_64.deb is not a valid .deb package" in text
