"""The JDBC lab with JDBC_DATABASE=postgresql end to end through the real `lab` command: up, verify
green and leaving the demo data unchanged, idempotent re-up, `lab jdbc apply`, the guide and card
in PostgreSQL terms, and `lab scim demo`. One lab for the module (db, dbgate, scim).
"""

from __future__ import annotations

import json
import os
import subprocess
import uuid

import pytest

pytestmark = [pytest.mark.docker, pytest.mark.slow]
SERVICES = ("db", "dbgate", "scim")
PORTS = {"MARIADB_PORT": "45432", "DBGATE_PORT": "45090", "SCIM_PORT": "45443"}


@pytest.fixture(scope="module")
def started(make_lab):
    env = {"JDBC_DATABASE": "postgresql", "LAB_PROJECT": f"pgh{uuid.uuid4().hex[:6]}", **PORTS}
    handle = make_lab(["jdbc"], up=False, name="jdbcpg", env=env)
    handle.up(*SERVICES)
    return handle


def db_sql(handle, query: str, database: str = "") -> str:
    cfg = handle.cfg.jdbc
    name = subprocess.run(
        ["docker", "ps", "-q", "--filter", f"label=com.docker.compose.project={handle.cfg.core.project}",
         "--filter", "label=com.docker.compose.service=db"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    proc = subprocess.run(
        ["docker", "exec", "-e", "PGPASSWORD", name, "psql", "-X", "-h", "127.0.0.1", "-U", cfg.user,
         "-d", database or cfg.database, "-tA", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-c", query],
        capture_output=True, text=True, check=False, env={**os.environ, "PGPASSWORD": cfg.password},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def demo_digest(handle) -> str:
    """A digest of every demo row (PostgreSQL has no CHECKSUM TABLE)."""
    parts = [f"(SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) FROM {t} t)"
             for t in ("USERS", "ENTITLEMENTS", "USERENTITLEMENTS")]  # fmt: skip
    return db_sql(handle, "SELECT " + ", ".join(parts))


def test_up_then_verify_passes_and_leaves_the_demo_data_unchanged(started):
    assert db_sql(started, "SELECT version()").startswith("PostgreSQL 15")
    before = demo_digest(started)
    for _ in range(2):  # a second run must not grow anything either
        proc = started.run("verify", *SERVICES, "--json", check=False)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        results = json.loads(proc.stdout)["results"]
        passed = {r["name"] for r in results if r["outcome"] == "passed"}
        writers = ("scim2_tester", "demo_scenario", "provisioning_round_trip")
        assert all(any(w in name for name in passed) for w in writers), sorted(passed)
        assert not [r["name"] for r in results if r["outcome"] == "failed"]
        assert demo_digest(started) == before
    verify_db = f"{started.cfg.jdbc.database}_verify"
    assert db_sql(started, "SELECT COUNT(*) FROM USERS WHERE USER_ID LIKE 'verify.demo@%'", verify_db).strip() == "1"


def test_second_up_changes_nothing(started):
    proc = started.up(*SERVICES)
    assert "built" not in proc.stdout + proc.stderr


def test_guide_and_card_speak_postgresql(started):
    guide = started.run("jdbc", "guide").stdout
    assert f"jdbc:postgresql://db:5432/{started.cfg.jdbc.database}" in guide
    assert "org.postgresql.Driver" in guide and "SELECT * FROM GET_USER_BY_ID(?)" in guide
    assert "CALL CREATE_USER(" in guide and "allowMultiQueries" not in guide
    assert started.cfg.jdbc.password not in guide
    card = started.run("status").stdout + started.run("creds", "db").stdout
    assert "jdbc:postgresql://db:5432/" in card and started.cfg.jdbc.password in card


def test_jdbc_apply_reapplies_and_keeps_rows(started):
    db_sql(started, "CALL CREATE_USER('kept.row@galaxy.local','kept.row@galaxy.local','Kept','Row',"
                    "'kept.row@galaxy.local'" + ",NULL" * 19 + ")")  # fmt: skip
    proc = started.run("jdbc", "apply")
    assert "applied" in proc.stdout + proc.stderr
    assert db_sql(started, "SELECT COUNT(*) FROM USERS WHERE USER_ID='kept.row@galaxy.local'").strip() == "1"


def test_scim_demo_runs_against_the_postgresql_lab(started):
    proc = started.run("scim", "demo", "--json", "--user", "bb8.pg@galaxy.local", check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    steps = json.loads(proc.stdout)
    assert [s["status"] for s in steps] == [201, 200, 200, 200, 200]
    assert [r["ENT_ID"] for r in steps[-1]["rows"]["V_USERENTITLEMENTS"]] == ["2"]
