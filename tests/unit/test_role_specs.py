"""Every role documents its variables: `meta/argument_specs.yml` keys == `defaults/main.yml` keys.

Also: role variables are prefixed with the role name, internals (`__role_*`) stay out of defaults,
and every `lab_env:` mapping names a real `.env` key.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from lab.config import SECTION_TYPES
from lab.host.playbooks import ROLES

ROLE_DIRS = sorted(p for p in ROLES.iterdir() if (p / "tasks" / "main.yml").is_file())
ENV_KEYS = {key for section in SECTION_TYPES.values() for key in section.env_keys()} | {"LDAP_BASE_DN"}


def _load(path: Path) -> dict:  # type: ignore[type-arg]
    return (yaml.safe_load(path.read_text()) or {}) if path.is_file() else {}


def _options(role: Path) -> dict:  # type: ignore[type-arg]
    spec = _load(role / "meta" / "argument_specs.yml")
    return ((spec.get("argument_specs") or {}).get("main") or {}).get("options") or {}


def test_there_are_roles() -> None:
    assert any(r.name == "common" for r in ROLE_DIRS)


@pytest.mark.parametrize("role", ROLE_DIRS, ids=lambda p: p.name)
def test_argument_specs_match_defaults(role: Path) -> None:
    assert (role / "meta" / "argument_specs.yml").is_file(), "add meta/argument_specs.yml"
    defaults = set(_load(role / "defaults" / "main.yml"))
    options = set(_options(role))
    only_defaults, only_specs = sorted(defaults - options), sorted(options - defaults)
    assert options == defaults, f"only in defaults: {only_defaults}; only in specs: {only_specs}"


@pytest.mark.parametrize("role", ROLE_DIRS, ids=lambda p: p.name)
def test_variables_are_prefixed_with_the_role_name(role: Path) -> None:
    bad = [v for v in _load(role / "defaults" / "main.yml") if not v.startswith(f"{role.name}_")]
    assert not bad, f"rename to {role.name}_*: {bad}"


@pytest.mark.parametrize("role", ROLE_DIRS, ids=lambda p: p.name)
def test_lab_env_mappings_name_real_env_keys(role: Path) -> None:
    wrong = {
        name: o["lab_env"]
        for name, o in _options(role).items()
        if isinstance(o, dict) and o.get("lab_env") and o["lab_env"] not in ENV_KEYS
    }
    assert not wrong, f"unknown .env keys: {wrong}"


@pytest.mark.parametrize("role", ROLE_DIRS, ids=lambda p: p.name)
def test_spec_defaults_equal_role_defaults(role: Path) -> None:
    defaults = _load(role / "defaults" / "main.yml")
    for name, option in _options(role).items():
        if isinstance(option, dict) and "default" in option and name in defaults:
            assert option["default"] == defaults[name], f"{name}: spec and defaults/main.yml differ"


def test_only_the_common_role_changes_the_trust_store() -> None:
    """One home for the lab's extra CAs on a host: `common` (run first by every stack playbook).

    A second role copying CAs would name or pick them differently, and `common` removing what it
    did not install would then change the host on every run.
    """
    touching = {
        path.relative_to(ROLES).parts[0]
        for path in ROLES.glob("*/*/*.yml")
        if "update-ca-certificates" in path.read_text() or "share/ca-certificates" in path.read_text()
    }
    assert touching == {"common"}
