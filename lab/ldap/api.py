"""The LDAP lab's Python API behind `lab ldap ...` and `lab data generate`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from lab.company import Company, dump_company, generate_company, load_company
from lab.config import LabConfig
from lab.ldap import scenarios
from lab.ldap.client import Directory, Endpoint


@dataclass(frozen=True)
class ScenarioState:
    name: str
    summary: str
    requires: tuple[str, ...]
    applied: bool | None  # None: the directory could not be asked


def endpoint(cfg: LabConfig, host: str | None = None, port: int | None = None) -> Endpoint:
    """The directory of this lab: the published LDAP port on LAB_BIND unless told otherwise."""
    bind = cfg.core.bind
    default_host = "127.0.0.1" if bind in ("0.0.0.0", "::") else bind
    return Endpoint(
        host=host or default_host,
        port=port or cfg.ldap.port,
        base_dn=cfg.ldap.base_dn,
        admin_dn=cfg.ldap.admin_dn,
        admin_password=cfg.ldap.admin_password,
        config_password=cfg.ldap.config_password,
    )


@contextmanager
def scenario_context(cfg: LabConfig, host: str | None = None, port: int | None = None) -> Iterator[scenarios.Context]:
    directory = Directory(endpoint(cfg, host, port))
    try:
        yield scenarios.Context(
            directory=directory,
            company=load_company(cfg.core.company),
            mail_domain=cfg.ldap.mail_domain,
            demo_password=cfg.ldap.demo_password,
            salt_key=cfg.ldap.admin_password,
        )
    finally:
        directory.close()


def list_scenarios(cfg: LabConfig | None, host: str | None = None, port: int | None = None) -> list[ScenarioState]:
    """Every scenario with its state (`applied=None` without a config or a reachable directory)."""
    applied: dict[str, bool] = {}
    if cfg is not None:
        with scenario_context(cfg, host, port) as ctx:
            applied = scenarios.status(ctx)
    return [ScenarioState(s.name, s.summary, s.requires, applied.get(s.name)) for s in scenarios.SCENARIOS]


def apply_scenarios(
    cfg: LabConfig, names: list[str], host: str | None = None, port: int | None = None
) -> list[scenarios.Outcome]:
    """Apply `names` (all when empty is not allowed: pass scenarios.NAMES for --all)."""
    scenarios.plan(names)  # unknown names fail before any connection is made
    with scenario_context(cfg, host, port) as ctx:
        return scenarios.apply(ctx, names)


def write_company(users: int, seed: int, out: Path) -> Company:
    """`lab data generate`: a deterministic synthetic company written to `out`."""
    company = generate_company(users, seed)
    dump_company(company, out)
    return company


def company_for(cfg: LabConfig) -> Company:
    return load_company(cfg.core.company)
