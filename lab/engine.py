"""`lab engine setup` and `lab base-image`: a fresh Debian/Ubuntu machine made ready for labs.

On a machine whose engine already answers, nothing is installed or started.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from lab.errors import Problem, TargetError
from lab.runner import Runner
from lab.targets.compose import available_composes

DEBIAN_MIRROR = "http://deb.debian.org/debian"
SUPPORTED = ("debian", "ubuntu")
COMPOSE_V2_SUITE = "trixie"
PLUGIN_DIR = Path("/usr/local/lib/docker/cli-plugins")


@dataclass
class SetupReport:
    actions: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.actions)


def os_release(path: Path = Path("/etc/os-release")) -> dict[str, str]:
    out = {}
    try:
        for line in path.read_text().splitlines():
            if "=" in line:
                k, v = line.split("=", 1)
                out[k] = v.strip().strip('"')
    except OSError:
        pass
    return out


def engine_answers(runner: Runner) -> bool:
    return bool(shutil.which("docker")) and runner.run(["docker", "info"], check=False, timeout=30).ok


def _privileged(args: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return args
    if shutil.which("sudo"):
        return ["sudo", *args]
    raise TargetError(Problem("installing the Docker engine needs root", "run as root or install sudo"))


def setup_engine(
    runner: Runner,
    *,
    base_image: str,
    base_source: str = "auto",
    both_composes: bool = False,
    step: Callable[[str], None] = lambda _m: None,
) -> SetupReport:
    """Install and start a Docker engine and compose, and create the base image, as needed.

    A machine whose engine answers and has a compose keeps its setup: only a missing base image
    is created. `both_composes` (CI) also makes sure compose v1 and v2 are both there.
    """
    report = SetupReport()
    release = os_release()
    distro = release.get("ID", "")
    composes = {c.variant for c in available_composes(runner)}
    engine_ok = engine_answers(runner)
    base_missing = not engine_ok or not image_exists(runner, base_image)
    wanted: list[str] = []
    if not engine_ok and not shutil.which("dockerd"):
        wanted.append("docker.io")
    if (not engine_ok or both_composes) and "v1" not in composes:
        wanted.append("docker-compose")
    if base_missing and base_source != "pull" and not shutil.which("debootstrap"):
        wanted.append("debootstrap")
    need_v2 = (not composes and not engine_ok) or (both_composes and "v2" not in composes)
    if (wanted or need_v2 or not engine_ok) and distro not in SUPPORTED:
        raise TargetError(
            Problem(
                f"cannot set up Docker on {release.get('PRETTY_NAME', 'this OS')}",
                "supported: Debian 12 and Ubuntu 24.04; install Docker and compose yourself elsewhere",
            )
        )
    if wanted:
        step(f"installing {', '.join(wanted)} from the distribution")
        env = {"DEBIAN_FRONTEND": "noninteractive"}
        runner.run(_privileged(["apt-get", "update", "-qq"]), env=env, timeout=900)
        runner.run(
            _privileged(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *wanted]),
            env=env,
            timeout=1800,
        )
        report.actions.append(f"installed {' '.join(wanted)}")
    if need_v2 and not any(c.variant == "v2" for c in available_composes(runner)):
        step("adding the compose v2 plugin from the distribution")
        install_compose_v2(runner, distro)
        report.actions.append("installed the compose v2 plugin")
    if not engine_ok:
        step("starting the Docker engine")
        start_engine(runner)
        report.actions.append("started dockerd")
    if not image_exists(runner, base_image):
        step(f"creating the base image {base_image}")
        ensure_base_image(runner, base_image, source=base_source, step=step)
        report.actions.append(f"created {base_image}")
    return report


def install_compose_v2(runner: Runner, distro: str) -> None:
    """Ubuntu has `docker-compose-v2`; on Debian take the static binary from trixie's package
    and place it as a CLI plugin, leaving compose v1 in place."""
    env = {"DEBIAN_FRONTEND": "noninteractive"}
    if distro == "ubuntu":
        runner.run(_privileged(["apt-get", "install", "-y", "-qq", "docker-compose-v2"]), env=env, timeout=900)
        return
    with tempfile.TemporaryDirectory(prefix="lab-compose-") as tmp:
        work = Path(tmp)
        (work / "lists" / "partial").mkdir(parents=True)
        (work / "sources.list").write_text(f"deb {DEBIAN_MIRROR} {COMPOSE_V2_SUITE} main\n")
        opts = [
            "-o", f"Dir::Etc::SourceList={work / 'sources.list'}",
            "-o", "Dir::Etc::SourceParts=-",
            "-o", f"Dir::State::Lists={work / 'lists'}",
            "-o", "APT::Get::List-Cleanup=0",
        ]  # fmt: skip
        runner.run(["apt-get", *opts, "update", "-qq"], env=env, timeout=900)
        runner.run(["apt-get", *opts, "download", "docker-compose"], env=env, timeout=900, cwd=work)
        debs = sorted(work.glob("docker-compose_*.deb"))
        if not debs:
            raise TargetError(Problem("could not download trixie's docker-compose package", "check apt access"))
        runner.run(["dpkg-deb", "-x", str(debs[-1]), str(work / "x")])
        binary = work / "x" / "usr" / "libexec" / "docker" / "cli-plugins" / "docker-compose"
        runner.run(_privileged(["install", "-D", "-m", "0755", str(binary), str(PLUGIN_DIR / "docker-compose")]))


def start_engine(runner: Runner, wait: float = 60) -> None:
    if Path("/run/systemd/system").is_dir() and shutil.which("systemctl"):
        runner.run(_privileged(["systemctl", "enable", "--now", "docker"]), timeout=120)
    else:
        log = "/var/log/dockerd.log"
        runner.run(_privileged(["sh", "-c", f"nohup dockerd >>{log} 2>&1 &"]), timeout=30)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if engine_answers(runner):
            return
        time.sleep(1)
    raise TargetError(Problem(f"dockerd did not answer within {wait:.0f}s", "see /var/log/dockerd.log"))


def image_exists(runner: Runner, image: str) -> bool:
    return runner.run(["docker", "image", "inspect", image], check=False, timeout=60).ok


def ensure_base_image(
    runner: Runner,
    image: str,
    *,
    source: str = "auto",
    suite: str = "bookworm",
    mirror: str = DEBIAN_MIRROR,
    step: Callable[[str], None] = lambda _m: None,
) -> str:
    """Make `image` exist locally: pull it (source=pull|auto) or debootstrap it (debootstrap|auto)."""
    if image_exists(runner, image):
        return "present"
    if source in ("pull", "auto"):
        step(f"trying to pull {image}")
        try:
            if runner.run(["docker", "pull", image], check=False, timeout=30).ok:
                return "pulled"
        except TargetError:  # no registry answered in time
            pass
        if source == "pull":
            raise TargetError(Problem(f"could not pull {image}", "set LAB_BASE_IMAGE_SOURCE=debootstrap"))
    if not shutil.which("debootstrap"):
        raise TargetError(
            Problem("debootstrap is not installed", "run `lab engine setup` or apt-get install debootstrap")
        )
    step(f"debootstrap {suite} (minbase) from {mirror}; this takes a minute")
    with tempfile.TemporaryDirectory(prefix="lab-base-") as tmp:
        root = Path(tmp) / "root"
        runner.run(_privileged(["debootstrap", "--variant=minbase", suite, str(root), mirror]), timeout=1800)
        runner.run(_privileged(["sh", "-c", f'tar -C "{root}" -c . | docker import - "{image}"']), timeout=600)
        runner.run(_privileged(["rm", "-rf", str(root)]), check=False, timeout=600)
    return "debootstrapped"
