"""Checks of the GLPI lab: glpi-db (GLPI's MariaDB), mail (MailDev) and GLPI itself.

GLPI runs from the official image, which needs a container registry; where `lab up` could not
pull it the GLPI checks say so in one line and the database and mail checks still run.
"""

from __future__ import annotations

import base64
import json
import os
import smtplib
import urllib.error
import urllib.request
import uuid
from email.message import EmailMessage
from http.cookiejar import CookieJar
from pathlib import Path

import pytest

NO_REGISTRY = "glpi is not running: its official image needs a container registry (see `lab up glpi`)"


# --- glpi-db ------------------------------------------------------------------------------------


def glpi_sql(lab, query: str):  # type: ignore[no-untyped-def]
    g = lab.cfg.glpi
    return lab.host("glpi-db").run(
        "MYSQL_PWD=%s mariadb --protocol=tcp -h 127.0.0.1 -P 3306 -u %s -N -B -e %s",
        g.db_password, g.db_user, query,
    )  # fmt: skip


def test_glpi_db_user_reaches_its_database(lab):
    lab.require("glpi-db")
    r = glpi_sql(
        lab, f"SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = '{lab.cfg.glpi.db_name}'"
    )
    assert r.rc == 0 and r.stdout.strip() == lab.cfg.glpi.db_name, r.stderr


def test_glpi_db_has_time_zones_readable_by_glpi(lab):
    lab.require("glpi-db")
    r = glpi_sql(lab, "SELECT COUNT(*) FROM mysql.time_zone_name WHERE Name = 'Europe/Paris'")
    assert r.rc == 0 and r.stdout.strip() == "1", r.stderr or r.stdout


def test_glpi_db_user_has_its_grants_and_no_others(lab):
    lab.require("glpi-db")
    g = lab.cfg.glpi
    r = glpi_sql(lab, "SHOW GRANTS FOR CURRENT_USER()")
    assert r.rc == 0, r.stderr
    grants = sorted(line.split(" IDENTIFIED ")[0] for line in r.stdout.strip().splitlines())
    assert grants == sorted(
        [
            f"GRANT ALL PRIVILEGES ON `{g.db_name}`.* TO `{g.db_user}`@`%`",
            f"GRANT SELECT ON `mysql`.`time_zone_name` TO `{g.db_user}`@`%`",
            f"GRANT USAGE ON *.* TO `{g.db_user}`@`%`",
        ]
    ), grants


def test_glpi_db_user_cannot_read_other_tables(lab):
    lab.require("glpi-db")
    r = glpi_sql(lab, "SELECT COUNT(*) FROM mysql.user")
    assert r.rc != 0 and "denied" in r.stderr.lower(), r.stdout


# --- mail ---------------------------------------------------------------------------------------


def mail_api(lab, path: str, login: tuple[str, str] | None = None):  # type: ignore[no-untyped-def]
    req = urllib.request.Request(f"http://{lab.addr}:{lab.port('MAIL_UI_PORT')}{path}")
    if login:
        req.add_header("Authorization", "Basic " + base64.b64encode(":".join(login).encode()).decode())
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def mail_login(lab) -> tuple[str, str]:
    return lab.cfg.glpi.mail_ui_login, lab.cfg.glpi.mail_ui_password


def test_mail_ui_refuses_without_the_login(lab):
    lab.require("mail")
    assert mail_api(lab, "/")[0] == 401
    assert mail_api(lab, "/email")[0] == 401
    assert mail_api(lab, "/email", (lab.cfg.glpi.mail_ui_login, "not-the-password"))[0] == 401


def test_mail_ui_answers_the_login(lab):
    lab.require("mail")
    status, body = mail_api(lab, "/", mail_login(lab))
    assert status == 200 and b"MailDev" in body, body[:200]


def test_a_test_mail_lands_in_the_catcher(lab):
    lab.require("mail")
    subject = f"okta-lab verify {uuid.uuid4()}"
    msg = EmailMessage()
    msg["From"] = lab.cfg.glpi.mail_from
    msg["To"] = f"luke.skywalker@{lab.cfg.ldap.mail_domain}"
    msg["Subject"] = subject
    msg.set_content("A GLPI notification would look like this.")
    with smtplib.SMTP(lab.addr, lab.port("MAIL_SMTP_PORT"), timeout=15) as smtp:
        smtp.send_message(msg)

    def landed() -> bool:
        status, body = mail_api(lab, "/email", mail_login(lab))
        assert status == 200, status
        return any(m.get("subject") == subject for m in json.loads(body))

    assert lab.wait(landed, timeout=30)


def test_mail_runs_as_an_unprivileged_user(lab):
    lab.require("mail")
    owners = lab.host("mail").run(
        'for p in /proc/[0-9]*; do [ "$(cat $p/comm 2>/dev/null)" = node ] && stat -c %U $p; done; true'
    )
    assert owners.stdout.split() == ["maildev"], owners.stdout


# --- glpi (needs its image) ---------------------------------------------------------------------


# Defined only when the lab runs glpi; otherwise one check says why, in one line.


def _lab_services() -> set[str]:
    state = Path(os.environ.get("LAB_ROOT", ".")) / ".lab" / "lab.json"
    try:
        return set(json.loads(state.read_text()).get("services", []))
    except (OSError, ValueError):
        return set()


GLPI_RUNS = "glpi" in _lab_services()


def test_glpi_runs(lab):
    if "glpi" not in lab.services:
        pytest.skip(NO_REGISTRY if {"glpi-db", "mail"} & set(lab.services) else "glpi is not part of this lab")


def glpi_api_login(url: str, user: str, password: str) -> int:
    req = urllib.request.Request(f"{url}/apirest.php/initSession")
    req.add_header("Authorization", "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode())
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code


if GLPI_RUNS:

    @pytest.fixture(scope="module")
    def glpi_url(lab) -> str:
        return f"http://{lab.addr}:{lab.port('GLPI_PORT')}"

    def test_glpi_answers(glpi_url):
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
        with opener.open(f"{glpi_url}/", timeout=30) as resp:
            assert resp.status == 200 and b"GLPI" in resp.read()

    def test_glpi_default_passwords_are_refused(glpi_url):
        for user, password in (("glpi", "glpi"), ("tech", "tech"), ("normal", "normal"), ("post-only", "postonly")):
            assert glpi_api_login(glpi_url, user, password) == 401, f"{user} still has GLPI's default password"

    def test_glpi_admin_signs_in_with_the_generated_password(lab, glpi_url):
        assert glpi_api_login(glpi_url, "glpi", lab.cfg.glpi.admin_password) == 200

    def test_sample_user_signs_in_through_the_lab_directory(lab, glpi_url):
        user = f"luke.skywalker@{lab.cfg.ldap.mail_domain}"
        assert glpi_api_login(glpi_url, user, lab.cfg.ldap.demo_password) == 200
