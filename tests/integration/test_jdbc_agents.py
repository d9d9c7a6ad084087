"""The okta-scim and okta-opp images, built from their real Dockerfiles and scripts on a Debian
stand-in for the RHEL base, with small fake RPMs built by the tests (tests/fakes/rpm).

Covers: RPM validation (corrupt, truncated, wrong package), JDBC driver jars (good, not a jar,
missing), extra CA trust, certificate + bearer token generated once and kept across restarts,
secrets kept out of logs, and the OPP agent waiting for registration, then running.
"""

from __future__ import annotations

import io
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from dotenv import dotenv_values

from lab import RESOURCES
from lab.catalog import load_catalog
from lab.config import LabConfig
from lab.envfile import render_env
from lab.render import build_context

sys.path.insert(0, str(RESOURCES / "tests" / "fakes" / "rpm"))
from build import build_fake_rpms, build_tools_image  # noqa: E402

pytestmark = pytest.mark.docker
DEBIAN_RPM_FLAGS = "--nodeps --force-debian"


def docker(*args: str, check: bool = True, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout, check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)}: {proc.stdout}\n{proc.stderr}")
    return proc


@pytest.fixture(scope="module")
def tools(docker_engine: None) -> str:
    return build_tools_image()


@pytest.fixture(scope="module")
def fakes(tools: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return build_fake_rpms(tmp_path_factory.mktemp("fake-rpms"))


def build_agent(
    service: str, rpm: Path, tools: str, tmp: Path, *, cas: list[Path] = ()
) -> subprocess.CompletedProcess[str]:  # type: ignore[assignment]
    """`docker build` the build context `lab render` writes for <service> (packages/, extra-ca/)."""
    ctx = tmp / f"ctx-{service}-{secrets.token_hex(3)}"
    packages = tmp / f"packages-{ctx.name[-6:]}"
    packages.mkdir()
    for path in (rpm, *cas):
        shutil.copy(path, packages / path.name)
    example = dotenv_values(stream=io.StringIO(render_env((RESOURCES / ".env.example").read_text())))
    config = LabConfig.from_mapping({k: v or "" for k, v in example.items()})
    for rel, data in build_context(config, load_catalog().get(service), packages).items():
        (ctx / rel).parent.mkdir(parents=True, exist_ok=True)
        (ctx / rel).write_bytes(data)
    tag = f"okta-lab-test/{service}:{ctx.name[-6:]}"
    args = ["build", "--force-rm", "-t", tag, "--build-arg", f"BASE_IMAGE={tools}",
            "--build-arg", f"RPM_INSTALL_FLAGS={DEBIAN_RPM_FLAGS}"]  # fmt: skip
    if service == "okta-scim":
        args += ["--build-arg", "MYSQL_CONNECTOR_VERSION="]  # no Maven Central in tests
    proc = docker(*args, str(ctx), check=False, timeout=900)
    proc.args = tag  # type: ignore[assignment]
    return proc


def make_ca(path: Path) -> Path:
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=Corp Proxy CA",
         "-keyout", str(path.with_suffix(".key")), "-out", str(path)],
        check=True, capture_output=True,
    )  # fmt: skip
    return path


class Agent:
    """One container of an agent image with its data folders bind-mounted like compose does."""

    def __init__(self, image: str, root: Path, service: str, packages: Path, env: dict[str, str]) -> None:
        self.name = f"okta-lab-test-{service}-{secrets.token_hex(3)}"
        self.root = root
        mounts = {
            "okta-scim": {"conf": "/etc/OktaOnPremScimServer", "certs": "/opt/OktaOnPremScimServer/certs",
                          "logs": "/var/log/OktaOnPremScimServer"},
            "okta-opp": {"conf": "/opt/OktaProvisioningAgent/conf",
                         "security": "/opt/OktaProvisioningAgent/security",
                         "logs": "/opt/OktaProvisioningAgent/logs"},
        }[service]  # fmt: skip
        args = ["run", "-d", "--init", "--name", self.name, "--hostname", service]
        for sub, target in mounts.items():
            (root / sub).mkdir(parents=True, exist_ok=True)
            args += ["-v", f"{root / sub}:{target}"]
        args += ["-v", f"{packages}:/packages:ro"]
        for key, value in env.items():
            args += ["-e", f"{key}={value}"]
        docker(*args, image)

    def logs(self) -> str:
        proc = docker("logs", self.name, check=False)
        return proc.stdout + proc.stderr

    def exec(self, *cmd: str, check: bool = False) -> subprocess.CompletedProcess[str]:
        return docker("exec", self.name, *cmd, check=check)

    def wait_exit(self) -> int:
        return int(docker("wait", self.name, timeout=120).stdout.strip())

    def wait_for(self, cmd: tuple[str, ...], timeout: float = 60) -> subprocess.CompletedProcess[str]:
        deadline = time.monotonic() + timeout
        while True:
            proc = self.exec(*cmd)
            if proc.returncode == 0 or time.monotonic() > deadline:
                return proc
            time.sleep(1)

    def restart(self) -> None:
        docker("restart", "-t", "5", self.name)

    def remove(self) -> None:
        docker("rm", "-f", self.name, check=False)


@pytest.fixture
def agents() -> Iterator[list[Agent]]:
    made: list[Agent] = []
    yield made
    for agent in made:
        agent.remove()


def packages_with(tmp: Path, *files: Path) -> Path:
    folder = tmp / f"packages-{secrets.token_hex(3)}"
    folder.mkdir()
    for f in files:
        shutil.copy(f, folder / f.name)
    return folder


# --- image builds ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def scim_image(tools: str, fakes: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> str:
    tmp = tmp_path_factory.mktemp("scim-build")
    proc = build_agent("okta-scim", fakes["scim"], tools, tmp, cas=[make_ca(tmp / "corp-ca.crt")])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    yield str(proc.args)
    docker("rmi", "-f", str(proc.args), check=False)


@pytest.fixture(scope="module")
def opp_image(tools: str, fakes: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> str:
    proc = build_agent("okta-opp", fakes["opp"], tools, tmp_path_factory.mktemp("opp-build"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    yield str(proc.args)
    docker("rmi", "-f", str(proc.args), check=False)


@pytest.mark.parametrize("which", ["corrupt", "truncated"])
def test_a_damaged_rpm_fails_the_build_with_a_clear_error(tools, fakes, tmp_path, which):
    proc = build_agent("okta-scim", fakes[which], tools, tmp_path)
    assert proc.returncode != 0
    assert "is not a valid RPM" in proc.stdout + proc.stderr


def test_the_wrong_rpm_fails_the_build(tools, fakes, tmp_path):
    wrong = tmp_path / "OktaOnPremScimServer-9.9.9.rpm"
    shutil.copy(fakes["opp"], wrong)
    proc = build_agent("okta-scim", wrong, tools, tmp_path)
    assert proc.returncode != 0
    assert "contains package 'OktaProvisioningAgent', expected 'OktaOnPremScimServer'" in proc.stdout + proc.stderr


def test_scim_image_installs_the_rpm_without_its_generated_state(scim_image):
    out = docker("run", "--rm", "--entrypoint", "sh", scim_image, "-c",
                 "rpm -q OktaOnPremScimServer; ls -A /etc/OktaOnPremScimServer | wc -l; "
                 "ls /usr/local/share/ca-certificates/okta-lab/").stdout.split()  # fmt: skip
    assert out[0].startswith("OktaOnPremScimServer-1.7.0")
    assert out[1] == "0"  # what %post generated is removed; it is generated at runtime instead
    assert out[2] == "corp-ca.crt"  # build-time CA (TLS interception) trusted


# --- okta-scim at runtime ------------------------------------------------------------------------


def test_scim_server_generates_token_and_certificate_once(scim_image, fakes, tmp_path, agents):
    packages = packages_with(tmp_path, fakes["jar"])
    env = {"CUSTOMER_ID": "acme", "SCIM_KEY_BITS": "2048", "SCIM_HOSTNAME": "okta-scim"}
    agent = Agent(scim_image, tmp_path / "data", "okta-scim", packages, env)
    agents.append(agent)
    health = agent.wait_for(("/usr/local/lib/okta-lab/healthcheck.sh",))
    assert health.returncode == 0, agent.logs()
    token = (tmp_path / "data" / "conf" / "bearer-token").read_text().strip()
    assert len(token) == 32 and int(token, 16) >= 0
    assert (tmp_path / "data" / "conf" / "bearer-token").stat().st_mode & 0o077 == 0
    props = (tmp_path / "data" / "conf" / "config-acme.properties").read_text()
    assert f"scim.security.bearer.token={token}" in props and "server.port=1443" in props
    crt = tmp_path / "data" / "certs" / "OktaOnPremScimServer-acme.crt"
    first_cert = crt.read_bytes()
    assert token not in agent.logs()
    assert "mysql-connector-j-9.6.0.jar" in agent.exec("ls", "/opt/OktaOnPremScimServer/userlib").stdout

    agent.restart()
    assert agent.wait_for(("/usr/local/lib/okta-lab/healthcheck.sh",)).returncode == 0, agent.logs()
    assert (tmp_path / "data" / "conf" / "bearer-token").read_text().strip() == token
    assert crt.read_bytes() == first_cert
    assert "keeping the existing certificate" in agent.logs()


def test_scim_server_rejects_a_jar_that_is_not_a_jar(scim_image, fakes, tmp_path, agents):
    agent = Agent(scim_image, tmp_path / "data", "okta-scim", packages_with(tmp_path, fakes["bad_jar"]),
                  {"CUSTOMER_ID": "acme", "SCIM_KEY_BITS": "2048"})  # fmt: skip
    agents.append(agent)
    assert agent.wait_exit() == 1
    assert "mysql-connector-j-9.6.0.jar is not a Java archive" in agent.logs()
    assert not (tmp_path / "data" / "conf" / "bearer-token").exists()  # nothing half-done


def test_scim_server_needs_a_jdbc_driver(scim_image, tmp_path, agents):
    agent = Agent(scim_image, tmp_path / "data", "okta-scim", packages_with(tmp_path),
                  {"CUSTOMER_ID": "acme"})  # fmt: skip
    agents.append(agent)
    assert agent.wait_exit() == 1
    assert "no JDBC driver" in agent.logs()


def test_scim_server_rejects_a_bad_customer_id(scim_image, fakes, tmp_path, agents):
    agent = Agent(scim_image, tmp_path / "data", "okta-scim", packages_with(tmp_path, fakes["jar"]),
                  {"CUSTOMER_ID": "Not An Org"})  # fmt: skip
    agents.append(agent)
    assert agent.wait_exit() == 1
    assert "is not an Okta org subdomain" in agent.logs()


def test_scim_server_trusts_ca_files_from_packages(scim_image, fakes, tmp_path, agents):
    ca = make_ca(tmp_path / "vpn-ca.pem")
    agent = Agent(scim_image, tmp_path / "data", "okta-scim", packages_with(tmp_path, fakes["jar"], ca),
                  {"CUSTOMER_ID": "acme", "SCIM_KEY_BITS": "2048"})  # fmt: skip
    agents.append(agent)
    assert agent.wait_for(("/usr/local/lib/okta-lab/healthcheck.sh",)).returncode == 0, agent.logs()
    assert "trusting 1 extra CA certificate(s)" in agent.logs()
    assert (
        agent.exec("grep", "-q", ca.read_text().splitlines()[1], "/etc/ssl/certs/ca-certificates.crt").returncode == 0
    )


# --- okta-opp ----------------------------------------------------------------------------------------


def test_opp_agent_waits_for_registration_then_runs(opp_image, tmp_path, agents):
    agent = Agent(opp_image, tmp_path / "data", "okta-opp", packages_with(tmp_path), {"OPP_POLL_SECONDS": "1"})
    agents.append(agent)
    waiting = agent.wait_for(
        ("sh", "-c", "/usr/local/lib/okta-lab/healthcheck.sh | grep -q 'waiting for registration'")
    )
    assert waiting.returncode == 0, agent.logs()
    assert "run `lab configure okta-opp`" in agent.logs()
    assert agent.exec("pgrep", "-f", "sleep 100000").returncode != 0  # the agent is not started yet

    assert "successfully finished" in agent.exec("/opt/OktaProvisioningAgent/configure_agent.sh", check=True).stdout
    running = agent.wait_for(("sh", "-c", "/usr/local/lib/okta-lab/healthcheck.sh | grep -qx running"))
    assert running.returncode == 0, agent.logs()
    assert agent.exec("/usr/local/lib/okta-lab/healthcheck.sh").returncode == 0
    assert "registered; starting the agent" in agent.logs()

    agent.restart()  # registration persisted under data/: straight back to running
    assert agent.wait_for(("sh", "-c", "/usr/local/lib/okta-lab/healthcheck.sh | grep -qx running")).returncode == 0
    assert (tmp_path / "data" / "security" / "OktaProvisioningKeystore.p12").exists()
    assert "JAVA_OPTS=" in (tmp_path / "data" / "conf" / "settings.conf").read_text()


def test_opp_image_rejects_a_corrupt_rpm(tools, fakes, tmp_path):
    damaged = tmp_path / "OktaProvisioningAgent-3.0.7-1.noarch.rpm"
    data = fakes["opp"].read_bytes()
    damaged.write_bytes(data[: len(data) - 300])
    proc = build_agent("okta-opp", damaged, tools, tmp_path)
    assert proc.returncode != 0 and "is not a valid RPM" in proc.stdout + proc.stderr
