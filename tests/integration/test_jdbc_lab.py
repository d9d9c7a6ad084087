"""The JDBC lab end to end through the real `lab` command: up, verify, idempotent re-up, upgrade
of a changed procedure template applied to the existing database without losing rows, explicit
re-apply, the guide and the demo card, and bad .env input rejected before anything starts.

`db`, `dbgate` and `scim` are started (the vendor agents okta-scim and okta-opp have their own
tests); `lab verify` must leave the demo tables exactly as it found them (CHECKSUM TABLE).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lab import RESOURCES

pytestmark = [pytest.mark.docker, pytest.mark.slow]
SERVICES = ("db", "dbgate", "scim")
DEMO_TABLES = ("USERS", "ENTITLEMENTS", "USERENTITLEMENTS")


@pytest.fixture(scope="module")
def jdbc(make_lab):
    return make_lab(["jdbc"], up=False, name="jdbc")


@pytest.fixture(scope="module")
def started(jdbc):
    jdbc.up(*SERVICES)
    return jdbc


def project_of(handle) -> str:
    """LAB_PROJECT read from .env as text (works while the rest of .env is invalid)."""
    for line in (Path(handle.dir) / ".env").read_text().splitlines():
        if line.startswith("LAB_PROJECT="):
            return line.split("=", 1)[1].strip()
    raise AssertionError("no LAB_PROJECT")


def project_containers(handle) -> dict[str, str]:
    out = subprocess.run(
        ["docker", "ps", "-a", "--filter", f"label=com.docker.compose.project={project_of(handle)}",
         "--format", "{{.Label \"com.docker.compose.service\"}} {{.ID}}"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return dict(line.split() for line in out.splitlines() if line.strip())


def db_sql(handle, query: str) -> str:
    cfg = handle.cfg.jdbc
    name = subprocess.run(
        ["docker", "ps", "-q", "--filter", f"label=com.docker.compose.project={handle.cfg.core.project}",
         "--filter", "label=com.docker.compose.service=db"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    proc = subprocess.run(
        ["docker", "exec", "-e", "MYSQL_PWD", name, "mariadb", "--protocol=tcp", "-h", "127.0.0.1",
         "-u", cfg.user, "-N", "-B", "-e", query, cfg.database],
        capture_output=True, text=True, check=False, env={**os.environ, "MYSQL_PWD": cfg.password},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def demo_checksums(handle) -> str:
    return db_sql(handle, "CHECKSUM TABLE " + ", ".join(DEMO_TABLES))


def test_up_then_verify_passes_and_leaves_the_demo_data_unchanged(started):
    before = demo_checksums(started)
    counts = db_sql(started, "SELECT COUNT(*) FROM USERS")
    for _ in range(2):  # a second run must not grow anything either
        proc = started.run("verify", *SERVICES, "--json", check=False)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        passed = {r["name"] for r in json.loads(proc.stdout)["results"] if r["outcome"] == "passed"}
        writers = ("scim2_tester", "demo_scenario", "provisioning_round_trip")
        assert all(any(w in name for name in passed) for w in writers), sorted(passed)
        assert demo_checksums(started) == before
        assert db_sql(started, "SELECT COUNT(*) FROM USERS") == counts
    verify_db = f"{started.cfg.jdbc.database}_verify"
    assert db_sql(started, f"SELECT COUNT(*) FROM {verify_db}.USERS WHERE USER_ID LIKE 'verify.demo@%'").strip() == "1"


def test_second_up_changes_nothing(started):
    before = project_containers(started)
    proc = started.up(*SERVICES)
    assert project_containers(started) == before
    assert "built" not in proc.stdout + proc.stderr


def test_guide_and_card(started):
    guide = started.run("jdbc", "guide").stdout
    assert "allowMultiQueries=true" in guide and "CALL CREATE_USER(" in guide
    assert started.cfg.jdbc.password not in guide
    creds = started.run("creds", "db").stdout
    assert started.cfg.jdbc.password in creds


def test_jdbc_apply_reapplies_and_keeps_rows(started):
    db_sql(started, "CALL CREATE_USER('kept.row@galaxy.local','kept.row@galaxy.local','Kept','Row',"
                    "'kept.row@galaxy.local'" + ",NULL" * 19 + ")")  # fmt: skip
    proc = started.run("jdbc", "apply")
    assert "applied" in proc.stdout + proc.stderr
    assert db_sql(started, "SELECT COUNT(*) FROM USERS WHERE USER_ID='kept.row@galaxy.local'").strip() == "1"


def test_changed_procedure_template_upgrades_the_database(started, tmp_path):
    """`lab up` from a checkout whose procedure template changed: applied, rows kept."""
    checkout = tmp_path / "checkout"
    for part in ("lab", "compose", "templates", "tests/infra"):
        shutil.copytree(RESOURCES / part, checkout / part, ignore=shutil.ignore_patterns("__pycache__"))
    for name in (".env.example", "pyproject.toml", "README.md"):  # the scim image packs the toolkit
        shutil.copy(RESOURCES / name, checkout / name)
    template = checkout / "templates" / "sql" / "procedures.sql.j2"
    marker = "SELECT ENT_ID, ENT_NAME, ENT_DESCRIPTION FROM ENTITLEMENTS ORDER BY ENT_ID;"
    text = template.read_text()
    assert marker in text
    template.write_text(text.replace(marker, marker.replace("ENT_DESCRIPTION", "ENT_DESCRIPTION, 'v2' AS LAB_REV")))
    users_before = db_sql(started, "SELECT COUNT(*) FROM USERS").strip()
    before = project_containers(started)

    proc = subprocess.run(
        [sys.executable, "-m", "lab", "-C", str(started.dir), "up", *SERVICES],
        capture_output=True, text=True, timeout=900, check=False,
        env={**os.environ, **started.env, "PYTHONPATH": str(checkout)},
        cwd=str(started.dir),  # not the real checkout: `python -m` puts the cwd first on sys.path
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    deadline = time.monotonic() + 60
    while "v2" not in (rows := db_sql(started, "CALL GET_ALL_ENTITLEMENTS()")) and time.monotonic() < deadline:
        time.sleep(1)
    assert rows.splitlines()[0].split("\t")[-1] == "v2"
    assert db_sql(started, "SELECT COUNT(*) FROM USERS").strip() == users_before
    assert project_containers(started) == before  # upgraded in place, not recreated

    started.up(*SERVICES)  # back to the real templates
    deadline = time.monotonic() + 60
    while "v2" in db_sql(started, "CALL GET_ALL_ENTITLEMENTS()") and time.monotonic() < deadline:
        time.sleep(1)
    assert "v2" not in db_sql(started, "CALL GET_ALL_ENTITLEMENTS()")


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("MARIADB_DATABASE", "not-valid", "MARIADB_DATABASE='not-valid' is not a valid database name"),
        ("MARIADB_PASSWORD", "short", "MARIADB_PASSWORD"),
    ],
)
def test_bad_env_is_rejected_before_anything_starts(make_lab, key, value, message):
    handle = make_lab(["jdbc"], up=False, name="jdbc-bad")
    env_file = Path(handle.dir) / ".env"
    lines = [f"{key}={value}" if line.startswith(f"{key}=") else line for line in env_file.read_text().splitlines()]
    env_file.write_text("\n".join(lines) + "\n")
    proc = handle.run("up", *SERVICES, check=False)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert message in proc.stderr
    if key == "MARIADB_PASSWORD":
        assert f"={value}" not in proc.stderr  # the bad secret is not echoed
    assert project_containers(handle) == {}
    assert not (Path(handle.dir) / "data" / "db").exists()
