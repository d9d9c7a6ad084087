"""`lab doctor`: is this machine ready for the lab? Every failed check says how to fix it."""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

from lab.catalog import load_catalog
from lab.config import LabConfig
from lab.context import LabContext
from lab.engine import engine_answers, image_exists
from lab.errors import ConfigError, LabError
from lab.render import find_artifacts
from lab.targets.compose import available_composes

MIN_FREE_GB = 5.0


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    warning: bool = False  # a failed warning does not fail the doctor

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class PackageInfo:
    service: str
    pattern: str
    found: str
    sha256: str
    url_key: str

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


def packages(ctx: LabContext, config: LabConfig | None = None) -> list[PackageInfo]:
    """Every vendor artifact the catalog expects, and what `packages/` holds for it."""
    out = []
    for comp in load_catalog():
        if not comp.artifact:
            continue
        files = find_artifacts(comp, ctx.packages_dir)
        found = files[-1] if files else None
        digest = hashlib.sha256(found.read_bytes()).hexdigest() if found else ""
        out.append(
            PackageInfo(
                comp.service,
                comp.artifact.glob,
                str(found.relative_to(ctx.root)) if found else "",
                digest,
                comp.artifact.url_key,
            )
        )
    return out


def _wants_trixie(config: LabConfig, names: list[str]) -> bool:
    """True when a component of the checked stacks builds on the trixie base (e.g. okta-mcp)."""
    from lab.catalog import load_catalog

    try:
        return any(c.base == "trixie" for c in load_catalog().select(names or config.core.stack_list))
    except ConfigError:
        return False


def run_doctor(ctx: LabContext, names: list[str]) -> list[Check]:
    from lab.pipeline import check_ports, select
    from lab.targets.docker import port_in_use

    checks: list[Check] = []
    config: LabConfig | None = None
    try:
        config = LabConfig.from_env(ctx.env_path)
        checks.append(Check(".env", True, f"{ctx.env_path} is valid"))
    except ConfigError as exc:
        for p in exc.problems:
            checks.append(Check(".env", False, p.what, p.hint))

    runner = ctx.runner
    engine_ok = engine_answers(runner)
    if engine_ok:
        version = runner.run(["docker", "version", "--format", "{{.Server.Version}}"], check=False).stdout
        checks.append(Check("engine", True, f"Docker engine {version.strip()} answers"))
    else:
        checks.append(Check("engine", False, "cannot reach the Docker engine", "run `lab engine setup`"))

    composes = available_composes(runner)
    if composes:
        for c in composes:
            checks.append(Check("compose", True, f"compose {c.variant} {c.version} ({' '.join(c.command)})"))
    else:
        checks.append(Check("compose", False, "no compose installed", "run `lab engine setup`"))

    if config and engine_ok:
        image = config.core.base_image
        present = image_exists(runner, image)
        checks.append(
            Check("base image", present, f"{image} {'present' if present else 'missing'}", "run `lab base-image`")
        )
        if _wants_trixie(config, names):
            image = config.core.trixie_base_image
            present = image_exists(runner, image)
            fix = "run `lab base-image --suite trixie`"
            checks.append(Check("trixie base image", present, f"{image} {'present' if present else 'missing'}", fix))

    free = shutil.disk_usage(ctx.root).free / 1e9
    checks.append(
        Check(
            "disk",
            free >= MIN_FREE_GB,
            f"{free:.1f} GB free under {ctx.root}",
            f"free at least {MIN_FREE_GB:.0f} GB (images and data)",
        )
    )

    if config:
        try:
            selection = select(ctx, config, names)
            ports = check_ports(config, selection.components)
            held = _held_ports(ctx, config) if engine_ok else set()
            for comp, key, port, proto in ports:
                busy = port not in held and port_in_use(config.core.bind, port, proto)
                checks.append(
                    Check(
                        "port",
                        not busy,
                        f"{config.core.bind}:{port}/{proto} ({key}, {comp.service}) "
                        + ("in use" if busy else "free" if port not in held else "held by this lab"),
                        f"stop what uses it or change {key} in .env",
                    )
                )
        except LabError as exc:
            for p in exc.problems:
                checks.append(Check("selection", False, p.what, p.hint))

    for info in packages(ctx, config):
        url = config.raw.get(info.url_key, "") if (config and info.url_key) else ""
        if info.found:
            detail = f"{info.service}: {info.found} (sha256 {info.sha256[:16]}…)"
        elif url:
            detail = f"{info.service}: will download from {info.url_key}"
        else:
            detail = f"{info.service}: no {info.pattern} in packages/ (service skipped)"
        fix = f"put {info.pattern} in {Path('packages')}/" + (f" or set {info.url_key}" if info.url_key else "")
        checks.append(Check("package", bool(info.found or url), detail, fix, warning=True))
    return checks


def _held_ports(ctx: LabContext, config: LabConfig) -> set[int]:
    from lab.pipeline import docker_target

    try:
        return docker_target(ctx, config).held_ports()
    except LabError:
        return set()
