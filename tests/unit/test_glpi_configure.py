"""Contract tests of GLPI's configuration script (templates/config/glpi/configure.sh.j2), rendered as
`lab render` renders it and run for real against a fake `bin/console` and a fake GLPI API on
127.0.0.1: the exact console and API calls, and a second run that changes nothing."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from dotenv import dotenv_values

from lab.catalog import load_catalog
from lab.config import LabConfig
from lab.envfile import example_path, render_env
from lab.render import render_lab

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fakes"))
from glpi_api import FakeGlpi  # noqa: E402


def config() -> LabConfig:
    text = render_env(example_path().read_text(), {})
    return LabConfig.from_mapping({k: v or "" for k, v in dotenv_values(stream=io.StringIO(text)).items()})


FAKES = Path(__file__).resolve().parents[1] / "fakes"
pytestmark = pytest.mark.skipif(not (shutil.which("curl") and shutil.which("sha256sum")), reason="needs curl")


@pytest.fixture
def glpi(tmp_path: Path):  # type: ignore[no-untyped-def]
    cfg = config()
    render_lab(cfg, [load_catalog().get("glpi")], tmp_path / "lab")
    script = tmp_path / "lab" / "glpi" / "config" / "glpi" / "configure.sh"
    root = tmp_path / "glpi"
    (root / "bin").mkdir(parents=True)
    shutil.copy(FAKES / "glpi_console.py", root / "bin" / "console")
    fake = FakeGlpi()
    server, url = fake.serve()
    log = tmp_path / "console.log"
    env = {
        "PATH": os.environ["PATH"],
        "GLPI_DIR": str(root),
        "PHP": sys.executable,
        "LAB_GLPI_STATE": str(tmp_path / "state"),
        "GLPI_API_URL": url,
        "FAKE_CONSOLE_LOG": str(log),
        "GLPI_ADMIN_PASSWORD": "admin-Secret-1234",
        "GLPI_TECH_PASSWORD": "tech-Secret-1234",
        "GLPI_NORMAL_PASSWORD": "normal-Secret-1234",
        "GLPI_POSTONLY_PASSWORD": "post-Secret-1234",
        "LDAP_BIND_PASSWORD": 'bind-"Secret\\-1234',
    }

    def run() -> tuple[subprocess.CompletedProcess[str], list[list[str]], list[tuple[str, str, object]]]:
        fake.calls.clear()
        log.write_text("")
        proc = subprocess.run(["bash", str(script)], env=env, capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, proc.stderr
        return proc, [json.loads(line) for line in log.read_text().splitlines()], list(fake.calls)

    yield cfg, fake, env, run
    server.shutdown()


def test_first_run_makes_exactly_the_expected_calls(glpi):  # type: ignore[no-untyped-def]
    cfg, fake, env, run = glpi
    proc, console, api = run()
    assert console == [
        ["--no-interaction", "database:enable_timezones"],
        *(
            ["--no-interaction", "config:set", key, value]
            for key, value in [
                ("notifications_mailing", "1"),
                ("admin_email", "glpi@galaxy.local"),
                ("from_email", "glpi@galaxy.local"),
                ("noreply_email", "glpi@galaxy.local"),
                ("smtp_mode", "1"),
                ("smtp_host", "mail"),
                ("smtp_port", "1025"),
                ("smtp_check_certificate", "0"),
                ("url_base", "http://127.0.0.1:8080"),
                ("enable_api", "1"),
                ("enable_api_login_credentials", "1"),
            ]
        ),
        ["--no-interaction", "ldap:synchronize_users", "--ldap-server-id=1", "--only-create-new"],
    ]
    assert [(m, p) for m, p, _ in api] == [
        ("GET", "initSession"),  # the lab password: refused, GLPI still has its default
        ("GET", "initSession"),
        ("GET", "User/?searchText[name]=^glpi$&range=0-1"),
        ("PUT", "User/2"),
        ("GET", "User/?searchText[name]=^tech$&range=0-1"),
        ("PUT", "User/4"),
        ("GET", "User/?searchText[name]=^normal$&range=0-1"),
        ("PUT", "User/5"),
        ("GET", "User/?searchText[name]=^post-only$&range=0-1"),
        ("PUT", "User/3"),
        ("GET", "AuthLDAP/?searchText[name]=^Lab directory galaxy.universe$&range=0-1"),
        ("POST", "AuthLDAP"),
        ("GET", "killSession"),
    ]
    assert {n: u["password"] for n, u in fake.users.items()} == {
        "glpi": env["GLPI_ADMIN_PASSWORD"],
        "tech": env["GLPI_TECH_PASSWORD"],
        "normal": env["GLPI_NORMAL_PASSWORD"],
        "post-only": env["GLPI_POSTONLY_PASSWORD"],
    }
    (directory,) = fake.authldaps
    assert directory == {
        "id": 1,
        "name": "Lab directory galaxy.universe",
        "host": "openldap",
        "port": 1389,
        "use_tls": 1,
        "basedn": cfg.ldap.base_dn,
        "rootdn": cfg.ldap.admin_dn,
        "rootdn_passwd": env["LDAP_BIND_PASSWORD"],
        "condition": "(objectClass=inetOrgPerson)",
        "login_field": "uid",
        "sync_field": "entryuuid",
        "realname_field": "sn",
        "firstname_field": "givenname",
        "email1_field": "mail",
        "phone_field": "telephonenumber",
        "title_field": "title",
        "group_search_type": 1,
        "group_condition": "(objectClass=groupOfUniqueNames)",
        "group_member_field": "uniquemember",
        "use_dn": 1,
        "can_support_pagesize": 1,
        "pagesize": 100,
        "timeout": 30,
        "is_active": 1,
        "is_default": 1,
    }
    secrets = [v for k, v in env.items() if k.endswith("PASSWORD")]
    argv = json.dumps(console)
    assert not any(s in proc.stdout or s in proc.stderr or s in argv for s in secrets)


def test_second_run_changes_nothing(glpi):  # type: ignore[no-untyped-def]
    _, fake, _, run = glpi
    run()
    proc, console, api = run()
    assert console == []
    assert [(m, p) for m, p, _ in api] == [
        ("GET", "initSession"),
        ("GET", "AuthLDAP/?searchText[name]=^Lab directory galaxy.universe$&range=0-1"),
        ("GET", "killSession"),
    ]
    assert proc.stdout.strip() == "glpi-configure: GLPI is configured"


def test_a_changed_directory_field_is_put_back(glpi):  # type: ignore[no-untyped-def]
    _, fake, _, run = glpi
    run()
    fake.authldaps[0]["timeout"] = 10  # changed in GLPI's UI
    _, console, api = run()
    assert [(m, p) for m, p, _ in api if m != "GET"] == [("PUT", "AuthLDAP/1")]
    assert fake.authldaps[0]["timeout"] == 30
    assert console == []  # the directory's settings are what was synchronised with
