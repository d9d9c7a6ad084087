"""What the stack playbooks in `playbooks/` say: which groups and roles each stack uses.

The playbooks are the single source of truth (they also run under plain `ansible-playbook`), so
`lab` reads them instead of keeping a second table.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from lab import RESOURCES
from lab.errors import ConfigError, Problem

PLAYBOOKS = RESOURCES / "playbooks"
ROLES = RESOURCES / "roles"
#: Playbooks that are not a stack of their own.
_NOT_STACKS = {"site", "bootstrap"}


@dataclass(frozen=True)
class Play:
    name: str
    groups: tuple[str, ...]
    roles: tuple[str, ...]


@dataclass(frozen=True)
class StackPlaybook:
    stack: str
    path: Path
    plays: tuple[Play, ...]

    @property
    def groups(self) -> tuple[str, ...]:
        out: list[str] = []
        for play in self.plays:
            out.extend(g for g in play.groups if g not in out)
        return tuple(out)

    @property
    def roles(self) -> tuple[str, ...]:
        out: list[str] = []
        for play in self.plays:
            out.extend(r for r in play.roles if r not in out)
        return tuple(out)

    def group_of_role(self, role: str) -> str:
        for play in self.plays:
            if role in play.roles:
                return play.groups[0]
        raise KeyError(role)


def available_stacks(root: Path = PLAYBOOKS) -> list[str]:
    return sorted(p.stem for p in root.glob("*.yml") if p.stem not in _NOT_STACKS)


@cache
def load_stack(stack: str, root: Path = PLAYBOOKS) -> StackPlaybook:
    """Read `playbooks/<stack>.yml`, following `import_playbook` one level deep."""
    path = root / f"{stack}.yml"
    if not path.is_file():
        raise ConfigError(
            Problem(
                f"no playbook for stack {stack!r}",
                f"choose from {', '.join(available_stacks(root))} (playbooks/*.yml)",
            )
        )
    return StackPlaybook(stack=stack, path=path, plays=tuple(_plays(path)))


def _plays(path: Path) -> list[Play]:
    plays: list[Play] = []
    for entry in yaml.safe_load(path.read_text()) or []:
        if not isinstance(entry, dict):
            continue
        imported = entry.get("ansible.builtin.import_playbook") or entry.get("import_playbook")
        if imported:
            continue  # the bootstrap plays: they target the stack's own groups
        hosts = str(entry.get("hosts", ""))
        roles = tuple((r["role"] if isinstance(r, dict) else str(r)) for r in entry.get("roles", []) or [])
        if "{" in hosts:  # the bootstrap playbook: its hosts come from the importing playbook
            hosts = "all"
        groups = tuple(g for g in hosts.replace(",", ":").split(":") if g)
        plays.append(Play(name=str(entry.get("name", "")), groups=groups, roles=roles))
    return plays


def missing_roles(stack: StackPlaybook, roles_dir: Path = ROLES) -> list[str]:
    """Roles the playbook names that do not exist (yet) under `roles/`."""
    return [r for r in stack.roles if not (roles_dir / r / "tasks" / "main.yml").is_file()]


def role_env_map(role: str, roles_dir: Path = ROLES) -> dict[str, str]:
    """`{role variable: .env key}` from the `lab_env:` entries of `meta/argument_specs.yml`."""
    spec_file = roles_dir / role / "meta" / "argument_specs.yml"
    if not spec_file.is_file():
        return {}
    spec = yaml.safe_load(spec_file.read_text()) or {}
    options = ((spec.get("argument_specs") or {}).get("main") or {}).get("options") or {}
    return {name: str(o["lab_env"]) for name, o in options.items() if isinstance(o, dict) and o.get("lab_env")}
