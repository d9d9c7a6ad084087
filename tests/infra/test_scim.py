"""Checks for the toolkit's SCIM server (`scim`), on Docker or a native host.

Probes go over HTTPS to the published port, trusting the server's own certificate (pinned: read
from the data directory). The demo scenario's rows are read through the views with the `mariadb`
client on the database host, as the application user.
"""

from __future__ import annotations

import os
import random
import ssl
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest


def _state_file(lab: Any, name: str) -> str:
    """data/scim/NAME wherever the lab keeps it: here, on the `lab up --host` host, or natively."""
    text = lab.data.read(f"scim/{name}")
    if text is None:
        pytest.fail(f"no {name} at {lab.data.where(f'scim/{name}')}\n{lab.logs('scim')}")
    return str(text) + "\n"


class _Secret(str):
    """The token, hidden from pytest's failure output (tracebacks show fixture values)."""

    def __repr__(self) -> str:
        return "'********'"


@pytest.fixture(scope="module")
def token(lab: Any) -> str:
    return _Secret(_state_file(lab, "token").strip())


@pytest.fixture(scope="module")
def tls(lab: Any) -> ssl.SSLContext:
    pem = _state_file(lab, "scim.crt")
    with tempfile.NamedTemporaryFile("w", suffix=".crt", delete=False) as fh:
        fh.write(pem)
    context = ssl.create_default_context(cafile=fh.name)
    context.check_hostname = False  # the certificate itself is pinned; the probe address may vary
    Path(fh.name).unlink()
    return context


@pytest.fixture(scope="module")
def onprem(lab: Any, verify_db: str) -> dict[str, str]:
    """Headers that send a request to the verification database (`X-OKTA-ONPREM-DATA`, as the agent).

    The database host is the one the server itself uses: `db` on the lab network, 127.0.0.1 on
    a native host (roles/scim `scim_db_host`).
    """
    from lab.scim.backend import encode_onprem_header

    j = lab.cfg.jdbc
    host = "127.0.0.1" if lab.target == "host" else "db"
    url = (f"jdbc:postgresql://{host}:5432/{verify_db}" if j.is_postgresql
           else f"jdbc:mysql://{host}:3306/{verify_db}")  # fmt: skip
    value = encode_onprem_header({"jdbcUrl": url, "username": j.user, "password": j.password})
    return {"X-OKTA-ONPREM-DATA": _Secret(value)}


@pytest.fixture(scope="module")
def base(lab: Any) -> str:
    return f"https://{lab.addr}:{lab.port('SCIM_PORT')}"


def _get(base: str, path: str, tls: ssl.SSLContext, token: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.get(base + path, headers=headers, verify=tls, timeout=10)


def test_scim_answers_status_without_a_token(lab: Any, base: str, tls: ssl.SSLContext) -> None:
    path = f"/ws/rest/{lab.cfg.scim.app}/scim/v2/Status"
    r = lab.wait(lambda: _get(base, path, tls, None), timeout=120)
    assert r.status_code == 200 and "Scim Server is running" in r.text, lab.logs("scim")


@pytest.mark.parametrize("path", ["/scim/v2/Users", "/scim/v2/Schemas", "/scim/v2/Entitlements"])
def test_scim_rejects_missing_or_wrong_tokens(base: str, tls: ssl.SSLContext, path: str) -> None:
    assert _get(base, path, tls, None).status_code == 401
    assert _get(base, path, tls, "not-the-token-0123456789").status_code == 401


def test_scim_serves_the_sample_users(lab: Any, base: str, tls: ssl.SSLContext, token: str) -> None:
    r = _get(base, "/scim/v2/Users?count=1", tls, token)
    assert r.status_code == 200, f"{r.text}\n{lab.logs('scim')}"
    assert r.json()["totalResults"] >= 1
    assert _get(base, "/scim/v2/Entitlements", tls, token).json()["totalResults"] >= 1


def test_scim_token_and_certificate_are_private(lab: Any) -> None:
    mode = lab.data.mode("scim/token")
    assert mode is not None and mode & 0o077 == 0, f"{lab.data.where('scim/token')}: mode {mode}"
    if lab.target == "host":
        assert lab.host("scim").file("/var/lib/okta-lab-scim/token").user == "scim"


def test_scim_runs_unprivileged(lab: Any) -> None:
    procs = lab.host("scim").process.filter(comm="python3") + lab.host("scim").process.filter(comm="python")
    servers = [p for p in procs if "lab.scim" in p.args]
    assert servers, lab.logs("scim")
    # as `scim`, or (Docker) as the owner of data/scim, so the host user can read the token
    assert all(p.user not in ("root", "0") for p in servers)


def test_scim2_tester_suite_passes(
    base: str,
    tls: ssl.SSLContext,
    token: str,
    onprem: dict[str, str],
    record_property: Callable[[str, object], None],
) -> None:
    from httpx2 import Client
    from scim2_client.engines.httpx2 import SyncSCIMClient
    from scim2_tester import Status, check_server

    # Checks that cannot pass against this database (see docs/scim.md, "Conformance").
    not_applicable = (
        "object_deletion",
        "jdbc:2.0:User",
        "remove attribute 'active'",
        "in filtered results",
    )
    client = SyncSCIMClient(
        Client(base_url=f"{base}/scim/v2", headers={"Authorization": f"Bearer {token}", **onprem}, verify=tls)
    )
    # The tester draws attribute values at random: a seed (SCIM_TESTER_SEED, random by default)
    # printed with the result makes any run reproducible.
    seed = int(os.environ.get("SCIM_TESTER_SEED") or random.SystemRandom().randrange(1 << 30))
    random.seed(seed)
    try:
        results = check_server(client, resource_types=["User"])
    finally:
        client.client.close()
    passed = sum(r.status == Status.SUCCESS for r in results)
    na = [r for r in results if r.status not in (Status.SUCCESS, Status.SKIPPED)]
    failed = [f"{r.title}: {r.reason}" for r in na if not any(k in f"{r.title} {r.reason}" for k in not_applicable)]
    summary = f"scim2-tester: {passed} of {len(results)} checks passed, {len(na)} not applicable (seed {seed})"
    record_property("detail", summary)
    assert not failed, summary + "; unexpected:\n" + "\n".join(failed)
    assert passed >= 72, summary


class _ViewsOnDbHost:
    """Reads the views with the `mariadb` (or `psql`) client where the database runs."""

    def __init__(self, lab: Any, database: str) -> None:
        self.lab = lab
        self.database = database

    def rows(self, view: str, columns: tuple[str, ...], user_id: str) -> list[dict[str, Any]]:
        j = self.lab.cfg.jdbc
        order = "ENT_ID" if "ENT_ID" in columns else "USER_ID"
        query = f"SELECT {', '.join(columns)} FROM {view} WHERE USER_ID = '{user_id}' ORDER BY {order}"
        if j.is_postgresql:
            result = self.lab.host("db").run(
                "PGPASSWORD=%s psql -X -q -h 127.0.0.1 -p 5432 -U %s -d %s -A -F %s -P footer=off -c %s",
                j.password, j.user, self.database, "\t", query,
            )  # fmt: skip
            assert result.rc == 0, result.stderr
            lines = [line.split("\t") for line in result.stdout.splitlines() if line]
            header = [name.upper() for name in lines[0]] if lines else []
            return [dict(zip(header, values, strict=True)) for values in lines[1:]]
        result = self.lab.host("db").run(
            "MYSQL_PWD=%s mariadb --protocol=tcp -h 127.0.0.1 -P 3306 -u %s -B -e %s %s",
            j.password, j.user, query, self.database,
        )  # fmt: skip
        assert result.rc == 0, result.stderr
        lines = [line.split("\t") for line in result.stdout.splitlines() if line]
        return [dict(zip(lines[0], values, strict=True)) for values in lines[1:]] if lines else []


def test_scim_demo_scenario_leaves_the_expected_rows(
    lab: Any, base: str, tls: ssl.SSLContext, token: str, onprem: dict[str, str], verify_db: str
) -> None:
    """The demo scenario, against the verification database (the demo database never sees it)."""
    from lab.scim.demo import DemoUser, run_demo

    user = DemoUser(f"verify.demo@{lab.cfg.ldap.mail_domain}")

    class Caller:
        def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
            r = httpx.request(
                method, f"{base}/scim/v2{path}", json=body, verify=tls, timeout=30,
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/scim+json", **onprem},
            )  # fmt: skip
            return r.status_code, (r.json() if r.content else None)

    steps = run_demo(Caller(), _ViewsOnDbHost(lab, verify_db), user)
    # 201 (the copy starts as the demo data); 200 if the demo data itself holds the user (PUT)
    assert [s.status for s in steps][1:] == [200, 200, 200, 200] and steps[0].status in (200, 201)
    last = steps[-1].rows
    assert [r["TITLE"] for r in last["V_ACTIVE_USERS"]] == [user.new_title]
    assert [r["ENT_ID"] for r in last["V_USERENTITLEMENTS"]] == [user.entitlements[1]]
    assert [r["IS_ACTIVE"] for r in steps[2].rows["V_INACTIVE_USERS"]] == ["0"]
