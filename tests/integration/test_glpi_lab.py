"""`lab up glpi` for real on a machine without a container registry: glpi is left out, said once,
glpi-db and mail start and pass `lab verify glpi` (the GLPI checks skip in one line), and a second
`up` changes nothing. One lab for the whole module; the MailDev image is built once."""

from __future__ import annotations

import json
import uuid

import docker
import pytest

pytestmark = [pytest.mark.docker, pytest.mark.slow]

PORTS = {"GLPI_PORT": "46080", "MAIL_UI_PORT": "46025", "MAIL_SMTP_PORT": "46026",
         "LDAP_PORT": "46389", "LDAPS_PORT": "46636"}  # fmt: skip


@pytest.fixture(scope="module")
def glab(make_lab):  # type: ignore[no-untyped-def]
    handle = make_lab(["glpi"], env={**PORTS, "LAB_PROJECT": f"glpih{uuid.uuid4().hex[:6]}"}, up=False, name="glpih")
    up = handle.up("glpi")
    return handle, up


def containers(glab) -> dict[str, str]:  # type: ignore[no-untyped-def]
    handle, _ = glab
    found = docker.from_env().containers.list(
        filters={"label": f"com.docker.compose.project={handle.cfg.core.project}"}
    )
    return {c.labels["com.docker.compose.service"]: c.id for c in found}


def test_up_without_a_registry_says_once_that_glpi_needs_one(glab):
    _, up = glab
    text = up.stdout + up.stderr
    assert text.count("needs a container registry") == 1, text
    assert "glpi skipped: it needs a container registry: glpi/glpi:" in " ".join(text.split()), text


def test_up_starts_the_rest(glab):
    assert set(containers(glab)) == {"glpi-db", "mail", "openldap"}


def test_settings_are_rendered_once_and_private(glab):
    handle, _ = glab
    env = handle.dir / ".lab" / "mail" / "env" / "mail.env"
    assert oct(env.stat().st_mode & 0o777) == "0o600"
    assert f"MAILDEV_WEB_PASS={handle.cfg.glpi.mail_ui_password}" in env.read_text().splitlines()


def test_verify_glpi_passes_and_skips_glpi_in_one_line(glab):
    handle, _ = glab
    proc = handle.run("verify", "glpi", "--json")
    results = json.loads(proc.stdout)["results"]
    assert not [r for r in results if r["outcome"] not in ("passed", "skipped")], proc.stdout
    glpi = [r for r in results if r["component"] == "glpi"]
    skipped = [r for r in glpi if r["outcome"] == "skipped"]
    assert len(skipped) == 1 and "needs a container registry" in skipped[0]["message"], skipped
    passed = {r["name"] for r in glpi if r["outcome"] == "passed"}
    assert {"test_a_test_mail_lands_in_the_catcher", "test_glpi_db_user_has_its_grants_and_no_others"} <= passed


def test_second_up_changes_nothing(glab):
    handle, _ = glab
    before = containers(glab)
    again = handle.up("glpi")
    assert "built " not in again.stdout + again.stderr
    assert containers(glab) == before
