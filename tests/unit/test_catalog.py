"""The catalog: every component declared once and completely."""

from __future__ import annotations

import re

import pytest

from lab import RESOURCES
from lab.catalog import load_catalog
from lab.errors import ConfigError

CATALOG = load_catalog()


def test_services_are_unique_and_in_known_stacks() -> None:
    names = [c.service for c in CATALOG]
    assert len(names) == len(set(names))
    assert {"ldap", "jdbc", "viewer"} <= set(CATALOG.stacks)


@pytest.mark.parametrize("comp", list(CATALOG), ids=lambda c: c.service)
def test_component_is_complete(comp) -> None:  # type: ignore[no-untyped-def]
    assert comp.description
    assert comp.compose_template.exists(), f"compose/{comp.service}/compose.yml.j2 missing"
    for rel in comp.templates:
        assert (RESOURCES / "templates" / rel).exists(), f"template {rel} missing"
    for dep in comp.depends_on:
        CATALOG.get(dep)
    if comp.build:
        home = CATALOG.get(comp.build_from).home if comp.build_from else comp.home
        dockerfile = (home / "Dockerfile").read_text()
        base = {"bookworm": "debian:bookworm-slim", "trixie": "debian:trixie-slim"}[comp.base]
        assert re.search(rf"^ARG BASE_IMAGE={base}$", dockerfile, re.M) or comp.needs_registry
        assert "FROM ${BASE_IMAGE}" in dockerfile or comp.needs_registry


def test_select_adds_dependencies_and_keeps_catalog_order() -> None:
    for comp in CATALOG:
        chosen = [c.service for c in CATALOG.select([comp.service])]
        assert comp.service in chosen
        assert set(comp.depends_on) <= set(chosen)


def test_select_by_stack() -> None:
    assert "openldap" in [c.service for c in CATALOG.select(["ldap"])]


def test_unknown_name_lists_the_choices() -> None:
    with pytest.raises(ConfigError) as exc:
        CATALOG.select(["ldap", "nope", "neither"])
    assert [p.what for p in exc.value.problems] == [
        "unknown stack or service 'nope'",
        "unknown stack or service 'neither'",
    ]
    assert "ldap" in exc.value.problems[0].hint


def test_config_keys_are_real_env_keys() -> None:
    from lab.config import SECTION_TYPES

    known = {key for section in SECTION_TYPES.values() for key in section.env_keys()}
    for comp in CATALOG:
        assert set(comp.config_keys) <= known, f"{comp.service}: {set(comp.config_keys) - known}"
        assert {p.key for p in comp.ports} <= known, comp.service
