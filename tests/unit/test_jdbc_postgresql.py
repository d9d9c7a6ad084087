"""JDBC_DATABASE=postgresql without Docker: the setting, the rendered lab (compose, build context,
SQL, DBGate), the guide and operation map in PostgreSQL call syntax, and the native-host refusal."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import yaml
from dotenv import dotenv_values

from lab.catalog import load_catalog
from lab.company import load_company
from lab.config import LabConfig
from lab.envfile import example_path, render_env
from lab.errors import ConfigError
from lab.jdbc.guide import build_guide, render_text
from lab.jdbc.sql import PROCEDURES, RESULT_ROUTINES, SERVER_PROCEDURES, VIEWS, call_syntax, render_sql
from lab.render import render_lab
from lab.scim.operations import load_operations
from tests.conftest import lab_cli

SERVICES = ("db", "dbgate", "okta-scim", "okta-opp")


def config(**extra: str) -> LabConfig:
    text = render_env(example_path().read_text(), extra)
    values = {k: v or "" for k, v in dotenv_values(stream=io.StringIO(text)).items()}
    return LabConfig.from_mapping(values)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> tuple[LabConfig, dict, Path]:
    cfg = config(JDBC_DATABASE="postgresql", MARIADB_PUBLISH="true", MARIADB_PORT="15432")
    out = tmp_path_factory.mktemp("render-pg")
    result = render_lab(cfg, [load_catalog().get(s) for s in SERVICES], out)
    return cfg, yaml.safe_load(result.compose_file.read_text())["services"], out


def test_default_is_mariadb_and_bad_engine_is_one_clear_error():
    assert config().jdbc.engine == "mariadb"
    with pytest.raises(ConfigError) as info:
        config(JDBC_DATABASE="oracle")
    assert "JDBC_DATABASE" in str(info.value) and "postgresql" in str(info.value)


def test_db_service_runs_the_postgresql_image(rendered):
    cfg, services, out = rendered
    db = services["db"]
    assert db["environment"]["POSTGRES_PASSWORD"] == "${MARIADB_PASSWORD}"
    assert "MARIADB_DATABASE" not in db["environment"]
    assert db["ports"] == ["127.0.0.1:15432:5432"]
    assert "../data/db:/var/lib/postgresql/data" in db["volumes"]
    assert "postgresql-15" in (out / "build" / "db" / "Dockerfile").read_text()
    assert (out / "build" / "db" / "apply.sh").exists()
    schema = (out / "db" / "sql" / "schema.sql").read_text()
    assert "ENGINE=InnoDB" not in schema and "SMALLINT" in schema
    assert "LANGUAGE plpgsql" in (out / "db" / "sql" / "procedures.sql").read_text()
    assert cfg.jdbc.password not in (out / "compose.yml").read_text()


def test_dbgate_and_scim_follow_the_engine(rendered):
    _cfg, services, out = rendered
    assert services["dbgate"]["environment"]["PORT_lab"] == "5432"
    assert "ENGINE_lab=postgres@dbgate-plugin-postgres" in (out / "dbgate" / "env" / "dbgate.env").read_text()


def test_guide_gives_the_postgresql_url_driver_and_calls(tmp_path):
    cfg = config(JDBC_DATABASE="postgresql", MARIADB_DATABASE="hr_db")
    text = render_text(build_guide(cfg, tmp_path, load_operations()))
    assert "jdbc:postgresql://db:5432/hr_db" in text and "org.postgresql.Driver" in text
    assert "SELECT * FROM GET_USER_BY_ID(?)" in text and "CALL GET_USER_BY_ID" not in text
    assert "CALL CREATE_USER(?, ?" in text and "allowMultiQueries" not in text


def test_operation_map_in_postgresql_call_syntax():
    ops = load_operations().for_engine("postgresql")
    assert ops["get_users"].procedure.text == "SELECT * FROM GET_ACTIVEUSERS()"
    assert ops["get_user_entitlements"].procedure.text == "SELECT * FROM GET_USER_ENTITLEMENT(?)"
    assert ops["deactivate_user"].procedure.text == "CALL DEACTIVATE_USER(?)"
    assert load_operations().for_engine("mariadb")["get_users"].procedure.text == "CALL GET_ACTIVEUSERS()"
    assert call_syntax("postgresql", "GET_USER_BY_ID", 1) == "SELECT * FROM GET_USER_BY_ID(?)"
    assert call_syntax("mariadb", "GET_USER_BY_ID", 1) == "CALL GET_USER_BY_ID(?)"


def test_postgresql_sql_defines_every_routine_and_view():
    files = render_sql(load_company("galaxy"), "galaxy.local", dialect="postgresql")
    for name in PROCEDURES + SERVER_PROCEDURES:
        kind = "FUNCTION" if name in RESULT_ROUTINES else "OR REPLACE PROCEDURE"
        assert f"CREATE {kind} {name}(" in files["procedures"], name
    for view in VIEWS:
        assert f"CREATE VIEW {view} AS" in files["views"]
    assert "SIGNAL SQLSTATE" not in files["procedures"] and "ERRCODE = '45000'" in files["procedures"]
    assert "UUID()" not in files["seed"] and files["seed"].count("INSERT INTO USERS") == 1


def test_seed_quotes_for_postgresql_strings():
    files = render_sql(load_company("galaxy"), "galaxy.local", dialect="postgresql")
    assert "\\\\" not in files["seed"]  # standard_conforming_strings: backslashes stay single


def test_host_up_refuses_postgresql_in_one_line(tmp_path):
    lab_cli(tmp_path, "init", "--set", "JDBC_DATABASE=postgresql")
    proc = lab_cli(tmp_path, "host", "up", "jdbc", check=False)
    assert proc.returncode == 2, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert "JDBC_DATABASE=postgresql is not available on native hosts" in lines[0], proc.stderr
