"""The Okta Privileged Access enrichment: its settings, the merge of the recordings' graph with
the OPA inventory, the layout marks, and the compose fragment. The HTTP client is tested against
a real fake API in tests/integration/test_viewer_pam.py."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from lab.catalog import load_catalog
from lab.config import LabConfig
from lab.envfile import write_env
from lab.errors import ConfigError
from lab.render import render_lab
from lab.settings.viewer import ViewerSettings
from lab.viewer.pages import graph_layout
from lab.viewer.pam import (
    GraphServer,
    GraphTeam,
    PamClient,
    PamInventory,
    PamProject,
    PamServer,
    _expiry,
    build_graph,
)
from lab.viewer.settings import load_settings

BASE = {"VIEWER_ADMIN_PASSWORD": "p" * 16, "VIEWER_SESSION_SECRET": "s" * 48}
PAM = {
    "VIEWER_PAM_URL": "https://acme.pam.okta.com",
    "VIEWER_PAM_TEAM": "galaxy-ops",
    "VIEWER_PAM_KEY_ID": "1f0e6c1a-5c3b-4b8e-9d2e-7a6b5c4d3e2f",
    "VIEWER_PAM_KEY_SECRET": "pam-secret-value-do-not-print",
}


def problems(values: dict[str, str], tmp_path: Path) -> str:
    env = tmp_path / ".env"
    env.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
    with pytest.raises(ConfigError) as err:
        load_settings(env, environ={})
    return str(err.value)


# -- settings ------------------------------------------------------------------------------------


def test_pam_is_off_by_default() -> None:
    s = ViewerSettings.model_validate(BASE)
    assert not s.pam_enabled and s.pam_url == ""


def test_all_four_keys_enable_it_and_the_secret_is_a_secret() -> None:
    s = ViewerSettings.model_validate({**BASE, **PAM})
    assert s.pam_enabled and s.pam_url == "https://acme.pam.okta.com"
    assert "VIEWER_PAM_KEY_SECRET" in ViewerSettings.secret_keys()
    extra = ViewerSettings.model_fields["pam_key_secret"].json_schema_extra
    assert isinstance(extra, dict) and extra["generate"] is False  # `lab init` leaves it empty


@pytest.mark.parametrize("missing", sorted(PAM))
def test_keys_go_together(missing: str, tmp_path: Path) -> None:
    values = {**BASE, **{k: v for k, v in PAM.items() if k != missing}}
    text = problems(values, tmp_path)
    assert "go together" in text and missing in text
    assert PAM["VIEWER_PAM_KEY_SECRET"] not in text


def test_only_a_secret_is_also_refused(tmp_path: Path) -> None:
    text = problems({**BASE, "VIEWER_PAM_KEY_SECRET": "lonely-secret"}, tmp_path)
    assert "VIEWER_PAM_URL, VIEWER_PAM_TEAM, VIEWER_PAM_KEY_ID are empty" in text
    assert "lonely-secret" not in text


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("acme.pam.okta.com", "https://acme.pam.okta.com"),
        ("https://ACME-1.pam.oktapreview.com/", "https://acme-1.pam.oktapreview.com"),
        ("http://127.0.0.1:8999", "http://127.0.0.1:8999"),
        ("http://localhost:8999/", "http://localhost:8999"),
    ],
)
def test_tenant_urls_are_normalised(given: str, expected: str) -> None:
    s = ViewerSettings.model_validate({**BASE, **PAM, "VIEWER_PAM_URL": given})
    assert s.pam_url == expected


@pytest.mark.parametrize(
    "url",
    [
        "http://acme.pam.okta.com",  # tenants only over https
        "https://acme.okta.com",  # the Okta org, not the PAM tenant
        "https://acme.pam.okta.com.evil.test",
        "https://acme.pam.okta.com/v1/teams/x",
        "http://10.0.0.5:8080",  # plain http only on loopback
        "ftp://acme.pam.okta.com",
    ],
)
def test_bad_tenant_urls_are_refused_with_a_hint(url: str, tmp_path: Path) -> None:
    text = problems({**BASE, **PAM, "VIEWER_PAM_URL": url}, tmp_path)
    assert "VIEWER_PAM_URL" in text and "https://acme.pam.okta.com" in text


@pytest.mark.parametrize("team", ["Galaxy Ops", "galaxy_ops", "x" * 65, "ops/../x"])
def test_bad_team_names_are_refused(team: str, tmp_path: Path) -> None:
    assert "VIEWER_PAM_TEAM" in problems({**BASE, **PAM, "VIEWER_PAM_TEAM": team}, tmp_path)


def test_key_id_with_spaces_is_refused(tmp_path: Path) -> None:
    assert "VIEWER_PAM_KEY_ID" in problems({**BASE, **PAM, "VIEWER_PAM_KEY_ID": "a b"}, tmp_path)


def test_the_client_never_shows_its_secret() -> None:
    client = PamClient.from_settings(ViewerSettings.model_validate({**BASE, **PAM}))
    assert PAM["VIEWER_PAM_KEY_SECRET"] not in repr(client) and "galaxy-ops" in repr(client)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-05-22T10:11:12.123456789Z", datetime(2026, 5, 22, 10, 11, 12, 123456, tzinfo=UTC)),
        ("2026-05-22T10:11:12Z", datetime(2026, 5, 22, 10, 11, 12, tzinfo=UTC)),
        ("2026-05-22T10:11:12.5+00:00", datetime(2026, 5, 22, 10, 11, 12, 500000, tzinfo=UTC)),
    ],
)
def test_token_expiry_parses_go_timestamps(text: str, expected: datetime) -> None:
    assert _expiry(text) == expected


def test_unreadable_expiry_means_a_short_lived_token() -> None:
    assert (_expiry("soon") - datetime.now(UTC)).total_seconds() < 301


# -- compose -------------------------------------------------------------------------------------


def render(tmp_path: Path, **env: str) -> dict:  # type: ignore[type-arg]
    write_env(tmp_path / ".env", force=True, overrides={"LAB_STACKS": "viewer", **env})
    cfg = LabConfig.from_env(tmp_path / ".env")
    result = render_lab(cfg, load_catalog().select(["viewer"]), tmp_path / ".lab")
    return yaml.safe_load(result.compose_file.read_text())["services"]["viewer"]  # type: ignore[no-any-return]


def rendered_settings(tmp_path: Path) -> dict[str, str]:
    """The viewer's settings file (rendered once for compose `env_file:` and the native role)."""
    from tests.unit.test_app_env import parse_environment_file

    path = tmp_path / ".lab" / "viewer" / "env" / "viewer.env"
    assert path.stat().st_mode & 0o077 == 0, "the settings file holds secrets: 0600"
    return parse_environment_file(path.read_text())


def test_compose_passes_the_keys_and_keeps_the_secret_out_of_compose(tmp_path: Path) -> None:
    service = render(tmp_path, **PAM)
    assert "viewer/env/viewer.env" in service["env_file"]
    env = rendered_settings(tmp_path)
    assert env["VIEWER_PAM_URL"] == "https://acme.pam.okta.com"
    assert env["VIEWER_PAM_TEAM"] == "galaxy-ops" and env["VIEWER_PAM_KEY_ID"] == PAM["VIEWER_PAM_KEY_ID"]
    assert env["VIEWER_PAM_KEY_SECRET"] == PAM["VIEWER_PAM_KEY_SECRET"]
    assert PAM["VIEWER_PAM_KEY_SECRET"] not in (tmp_path / ".lab" / "compose.yml").read_text()


def test_compose_without_pam_has_no_pam_keys(tmp_path: Path) -> None:
    render(tmp_path)
    assert not [k for k, v in rendered_settings(tmp_path).items() if k.startswith("VIEWER_PAM_") and v]


def test_lab_config_redacts_the_secret(tmp_path: Path) -> None:
    write_env(tmp_path / ".env", force=True, overrides={"LAB_STACKS": "viewer", **PAM})
    values = LabConfig.from_env(tmp_path / ".env").env_values(redact=True)
    assert values["VIEWER_PAM_KEY_SECRET"] != PAM["VIEWER_PAM_KEY_SECRET"]
    assert values["VIEWER_PAM_KEY_ID"] == PAM["VIEWER_PAM_KEY_ID"]


# -- merge ---------------------------------------------------------------------------------------

TREE = {
    "galaxy-ops": {
        "core-infrastructure": {"bastion-01": 4, "dns-01": 2},
        "database-fleet": {"db-primary": 3, "db-replica-1": 1},
        "legacy": {"old-01": 5},
    },
    "rebel-dev": {"staging": {"app-stg-1": 2}},
}


def srv(sid: str, hostname: str, canonical: str = "") -> PamServer:
    return PamServer(sid, hostname, canonical, "linux", f"10.0.0.{len(sid)}")


INVENTORY = PamInventory(
    team="galaxy-ops",
    projects=(
        PamProject(
            "p1", "Core-Infrastructure", "prod", (srv("s1", "BASTION-01"), srv("s2", "dns-01"), srv("s3", "vault-01"))
        ),
        PamProject("p2", "database-fleet", "prod", (srv("s4", "db-primary"),)),
        PamProject("p3", "edge", "dmz", (srv("s5", "gw-1", "gw-1.galaxy.universe"),)),
        PamProject("p4", "empty-project", "dmz", ()),
    ),
    gateways=("gateway-a",),
)


def team(teams: tuple[GraphTeam, ...], label: str) -> GraphTeam:
    return next(t for t in teams if t.label == label)


def servers(t: GraphTeam, project: str) -> dict[str, GraphServer]:
    p = next(p for p in t.projects if p.label == project)
    return {s.label: s for s in p.servers}


def test_without_an_inventory_the_graph_is_the_names() -> None:
    teams = build_graph(TREE)
    assert [t.label for t in teams] == ["galaxy-ops", "rebel-dev"]
    ops = team(teams, "galaxy-ops")
    assert [p.label for p in ops.projects] == ["core-infrastructure", "database-fleet", "legacy"]
    assert ops.sessions == 15 and all(p.pam is None for p in ops.projects)
    assert servers(ops, "core-infrastructure")["bastion-01"] == GraphServer("bastion-01", "bastion-01", 4)


def test_opa_names_label_matched_projects_and_servers() -> None:
    ops = team(build_graph(TREE, INVENTORY), "galaxy-ops")
    core = servers(ops, "Core-Infrastructure")  # OPA's spelling
    assert core["BASTION-01"].key == "bastion-01" and core["BASTION-01"].sessions == 4
    assert core["BASTION-01"].pam is True and "linux" in core["BASTION-01"].detail
    project = next(p for p in ops.projects if p.label == "Core-Infrastructure")
    assert project.key == "core-infrastructure" and project.detail == "resource group prod"


def test_enrolled_servers_without_recordings_appear() -> None:
    ops = team(build_graph(TREE, INVENTORY), "galaxy-ops")
    vault = servers(ops, "Core-Infrastructure")["vault-01"]
    assert (vault.key, vault.sessions, vault.pam) == ("", 0, True)
    edge = next(p for p in ops.projects if p.label == "edge")
    assert edge.key == "" and edge.sessions == 0 and [s.label for s in edge.servers] == ["gw-1"]
    assert [p.servers for p in ops.projects if p.label == "empty-project"] == [()]


def test_recordings_opa_does_not_know_stay_marked() -> None:
    ops = team(build_graph(TREE, INVENTORY), "galaxy-ops")
    replica = servers(ops, "database-fleet")["db-replica-1"]
    assert (replica.key, replica.sessions, replica.pam) == ("db-replica-1", 1, False)
    legacy = next(p for p in ops.projects if p.label == "legacy")
    assert legacy.pam is False and legacy.sessions == 5 and legacy.servers[0].pam is False
    assert ops.sessions == 15  # no session lost


def test_other_teams_are_left_as_they_are() -> None:
    rebels = team(build_graph(TREE, INVENTORY), "rebel-dev")
    assert rebels.pam is None and servers(rebels, "staging")["app-stg-1"].pam is None


def test_a_team_without_recordings_comes_from_opa() -> None:
    teams = build_graph({"rebel-dev": TREE["rebel-dev"]}, INVENTORY)
    ops = team(teams, "galaxy-ops")
    assert ops.key == "" and ops.sessions == 0 and len(ops.projects) == 4


def test_servers_match_by_canonical_name_case_insensitively() -> None:
    tree = {"GALAXY-OPS": {"EDGE": {"GW-1.galaxy.universe": 2}}}
    ops = build_graph(tree, INVENTORY)[0]
    assert ops.key == "GALAXY-OPS" and ops.label == "galaxy-ops"
    gw = servers(ops, "edge")["gw-1"]
    assert (gw.key, gw.sessions, gw.pam) == ("GW-1.galaxy.universe", 2, True)


def test_one_project_name_in_two_resource_groups_is_one_node() -> None:
    inv = PamInventory(
        "galaxy-ops",
        (
            PamProject("a", "shared", "prod", (srv("s1", "h1"), srv("s2", "h2"))),
            PamProject("b", "shared", "dev", (srv("s2", "h2"), srv("s3", "h3"))),
        ),
    )
    (ops,) = build_graph({}, inv)
    (shared,) = ops.projects
    assert shared.detail == "resource groups dev, prod"
    assert [s.label for s in shared.servers] == ["h1", "h2", "h3"]  # h2 once


def test_layout_marks_empty_and_unknown_nodes() -> None:
    layout = graph_layout(build_graph(TREE, INVENTORY))
    by_label = {n["label"]: n for n in layout["nodes"]}
    assert by_label["vault-01"]["marks"] == "empty" and by_label["vault-01"]["text"] == "vault-01 (no recordings)"
    assert by_label["db-replica-1"]["marks"] == "unknown"
    assert "not in Okta Privileged Access" in by_label["db-replica-1"]["title"]
    assert by_label["BASTION-01"]["marks"] == "" and by_label["BASTION-01"]["text"] == "BASTION-01 (4)"
    assert by_label["empty-project"]["marks"] == "empty"
    ys = [n["y"] for n in layout["nodes"] if n["x"] == 570]
    assert len(ys) == len(set(ys)) and layout["height"] > max(ys)  # one row per server, no overlap


def test_layout_of_nothing_is_empty() -> None:
    assert graph_layout(build_graph({}))["nodes"] == []
