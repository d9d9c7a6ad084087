"""The sample company model: The Galaxy's facts, validation, synthetic generation, round trip."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import yaml

from lab.company import (
    Company,
    company_from_dict,
    company_to_dict,
    dump_company,
    generate_company,
    load_company,
)
from lab.errors import ConfigError


@pytest.fixture(scope="module")
def galaxy() -> Company:
    return load_company("galaxy")


def test_galaxy_counts(galaxy: Company) -> None:
    assert len(galaxy.people) == 15
    assert len(galaxy.groups) == 8
    assert len(galaxy.entitlements) == 10
    assert galaxy.assignment_count == 82


def test_galaxy_entitlement_usage_matches_public_lab(galaxy: Company) -> None:
    usage = Counter(e for p in galaxy.people for e in p.entitlements)
    assert dict(usage) == {1: 15, 2: 11, 3: 8, 4: 6, 5: 6, 6: 11, 7: 4, 8: 2, 9: 15, 10: 4}


def test_galaxy_references_resolve(galaxy: Company) -> None:
    for p in galaxy.people:
        if p.manager:
            assert galaxy.person(p.manager).uid == p.manager
        assert p.assigned and p.entitlements
    for g in galaxy.groups:
        assert g.members
        for uid in g.members:
            assert g.name in galaxy.person(uid).groups


def test_galaxy_group_sizes(galaxy: Company) -> None:
    sizes = {g.name: len(g.members) for g in galaxy.groups}
    assert sizes == {
        "Light-Side": 12,
        "Dark-Side": 3,
        "Droids": 2,
        "Rebel-Alliance": 8,
        "Galactic-Empire": 3,
        "Jedi-Council": 5,
        "Pilots": 3,
        "Naboo-Delegation": 1,
    }


def test_c3po_uses_ldap_spelling_and_login(galaxy: Company) -> None:
    c3po = galaxy.person("c-3po")
    assert c3po.login("galaxy.local") == "c-3po@galaxy.local"
    assert c3po.manager == "leia.organa"
    assert set(c3po.groups) == {"Light-Side", "Droids", "Rebel-Alliance"}


def test_padme_keeps_unicode(galaxy: Company) -> None:
    assert galaxy.person("padme.amidala").given_name == "Padmé"


def test_unknown_company_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such company file"):
        load_company(str(tmp_path / "missing.yaml"))


def test_dangling_references_are_all_reported(galaxy: Company) -> None:
    data = company_to_dict(galaxy)
    data["people"][0]["manager"] = "nobody"
    data["groups"][0]["members"].append("ghost")
    data["people"][1]["entitlements"].append(99)
    with pytest.raises(ConfigError) as err:
        company_from_dict(data)
    text = str(err.value)
    assert "'nobody'" in text and "'ghost'" in text and "entitlement 99" in text


def test_duplicate_uid_rejected(galaxy: Company) -> None:
    data = company_to_dict(galaxy)
    data["people"].append(dict(data["people"][0]))
    with pytest.raises(ConfigError, match="appears twice"):
        company_from_dict(data)


def test_round_trip(tmp_path: Path, galaxy: Company) -> None:
    out = tmp_path / "galaxy.yaml"
    dump_company(galaxy, out)
    assert load_company(str(out)) == galaxy


def test_generate_is_deterministic() -> None:
    a, b = generate_company(200, seed=7), generate_company(200, seed=7)
    assert company_to_dict(a) == company_to_dict(b)
    assert company_to_dict(generate_company(200, seed=8)) != company_to_dict(a)


def test_generated_company_is_valid_and_round_trips(tmp_path: Path) -> None:
    company = generate_company(500, seed=3)
    assert len(company.people) == 500
    assert len({p.uid for p in company.people}) == 500
    assert all(company.has_person(p.manager) for p in company.people if p.manager)
    assert sum(1 for p in company.people if p.manager is None) == 1
    assert company.group("All-Staff").members == tuple(p.uid for p in company.people)
    out = tmp_path / "c.yaml"
    dump_company(company, out)
    assert yaml.safe_load(out.read_text())["people"][0]["uid"] == company.people[0].uid
    assert load_company(str(out)) == company


def test_generate_rejects_zero_users() -> None:
    with pytest.raises(ConfigError):
        generate_company(0)
