"""The okta-radius-agent image with a fake vendor .deb: unpacked with its interactive post-install
skipped, config seeded once and kept across restarts, "waiting for registration" until the lab's
configure script (the vendor's) succeeds, then running; a wrong package is refused at build."""

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
from okta_radius_agent import build_fake_radius_agent_deb, write_wrong_package_deb  # noqa: E402

pytestmark = pytest.mark.docker
IMAGE = "okta-lab-test/okta-radius-agent:fake"


def build_context(tmp: Path, deb_maker) -> Path:  # type: ignore[no-untyped-def]
    ctx = tmp / "ctx"
    shutil.copytree(RESOURCES / "compose" / "okta-radius-agent", ctx)
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


def state(name: str) -> str:
    return docker("exec", name, "/usr/local/lib/okta-lab/healthcheck.sh", check=False).stdout.strip()


@pytest.fixture(scope="module")
def agent(docker_engine: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    tmp = tmp_path_factory.mktemp("ragent")
    docker("build", "--force-rm", "-q", "-t", IMAGE, str(build_context(tmp, build_fake_radius_agent_deb)))
    data = tmp / "data"
    for sub in ("config", "lib", "logs"):
        (data / sub).mkdir(parents=True)
    name = f"ragenttest-{tmp.name}"
    docker(
        "run", "-d", "--init", "--name", name, "-e", "OKTA_ORG=acme.okta.com", "-e", "RADIUS_MFA_TIMEOUT=75",
        "-v", f"{data / 'config'}:/opt/okta/ragent/user/config/radius",
        "-v", f"{data / 'lib'}:/var/lib/ragent", "-v", f"{data / 'logs'}:/opt/okta/ragent/logs", IMAGE,
    )  # fmt: skip
    try:
        yield name, data
    finally:
        docker("rm", "-f", name, check=False)
        docker("rmi", "-f", IMAGE, check=False)


def test_postinst_skipped_and_config_seeded_with_the_mfa_timeout(agent: tuple[str, Path]) -> None:
    name, data = agent
    wait_for(lambda: state(name) == "waiting for registration")
    props = (data / "config" / "config.properties").read_text()
    assert "ragent.okta.org" in props and props.count("ragent.mfa.timeout.seconds = 75") == 1
    assert (data / "config" / "log4j2.xml").exists() and (data / "lib" / "additional-config.properties").exists()
    assert "interactive post-install ran" not in docker("logs", name).stderr
    assert "waiting for registration" in docker("logs", name).stdout


def test_failed_registration_keeps_waiting(agent: tuple[str, Path]) -> None:
    name, _ = agent
    run = docker("exec", "-e", "FAKE_REGISTRATION_FAILS=1", name, "/usr/local/lib/okta-lab/configure.sh", check=False)
    assert run.returncode != 0 and "run `lab configure okta-radius-agent` again" in run.stderr
    time.sleep(4)
    assert state(name) == "waiting for registration"


def test_configure_registers_then_the_agent_runs_and_restart_keeps_it(agent: tuple[str, Path]) -> None:
    name, data = agent
    run = docker("exec", name, "/usr/local/lib/okta-lab/configure.sh")
    assert "Please visit the URL" in run.stdout and "registration recorded" in run.stdout
    wait_for(lambda: state(name) == "running")
    wait_for(lambda: "fake OKTARadiusAgent started" in (data / "logs" / "okta_radius.log").read_text())
    docker("restart", name)
    wait_for(lambda: state(name) == "running")
    props = (data / "config" / "config.properties").read_text()
    assert "ragent.fake.registered = true" in props and props.count("ragent.mfa.timeout.seconds") == 1


def test_wrong_package_is_refused_at_build(docker_engine: None, tmp_path: Path) -> None:
    build = docker(
        "build",
        "--force-rm",
        "-q",
        "-t",
        IMAGE + "-bad",
        str(build_context(tmp_path, write_wrong_package_deb)),
        check=False,
    )
    assert build.returncode != 0 and "expected 'ragent'" in build.stdout + build.stderr
