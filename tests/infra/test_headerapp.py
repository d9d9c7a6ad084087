"""Checks for the header lab (`header-app` behind `oag-sim`), on Docker or a native host.

Probes go to oag-sim's published ports: the public app (HEADERAPP_PORT) picks the lab user from
`X-Lab-User` and sends the identity headers; the internal-only app (HEADERAPP_INTERNAL_PORT) must
refuse every client but loopback, as the article's first custom-code rule says.
"""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest


@pytest.fixture(scope="module")
def public(lab: Any) -> str:
    return f"http://{lab.addr}:{lab.port('HEADERAPP_PORT')}"


def _received(lab: Any, public: str, user: str = "", **headers: str) -> dict[str, Any]:
    sent = {"X-Lab-User": user, **headers} if user else headers
    r = lab.wait(lambda: httpx.get(f"{public}/headers.json", headers=sent, timeout=10), timeout=60)
    assert r.status_code == 200, f"{r.status_code} {r.text}\n{lab.logs('oag-sim')}"
    return dict(r.json())


def _value(doc: dict[str, Any], name: str) -> str | None:
    return next((h["value"] for h in doc["headers"] if h["name"].lower() == name.lower()), None)


def test_header_app_answers_through_the_gateway(lab: Any, public: str) -> None:
    r = lab.wait(lambda: httpx.get(f"{public}/health", timeout=10), timeout=60)
    assert r.status_code == 200 and r.json() == {"status": "ok"}, lab.logs("header-app")


def test_identity_headers_of_the_chosen_user_reach_the_app(lab: Any, public: str) -> None:
    doc = _received(lab, public, "leia.organa")
    assert _value(doc, "oag_username") == f"leia.organa@{lab.cfg.ldap.mail_domain}"
    assert (_value(doc, "FirstName"), _value(doc, "LastName")) == ("Leia", "Organa")
    assert {"oag_username", "FirstName", "LastName"} <= set(doc["identity"])  # names exactly as sent


def test_default_snippet_sends_the_username_as_base64_authorization(lab: Any, public: str) -> None:
    doc = _received(lab, public, "han.solo")
    login = f"han.solo@{lab.cfg.ldap.mail_domain}"
    assert _value(doc, "Authorization") == base64.b64encode(login.encode()).decode(), lab.data.read(
        "oag-sim/active.conf"
    )
    assert login in doc["identity"].values()


def test_the_default_user_is_used_when_none_is_named(lab: Any, public: str) -> None:
    doc = _received(lab, public)
    assert _value(doc, "oag_username") == f"{lab.cfg.headerapp.default_user}@{lab.cfg.ldap.mail_domain}"


def test_clients_cannot_set_identity_or_authorization_themselves(lab: Any, public: str) -> None:
    doc = _received(lab, public, "yoda", oag_username="darth.vader", Authorization="Basic ZGFydGg6dmFkZXI=")
    assert _value(doc, "oag_username") == f"yoda@{lab.cfg.ldap.mail_domain}"
    assert _value(doc, "X-Lab-User") is None
    assert "darth" not in str(doc["identity"])


def test_unknown_lab_users_are_refused(public: str) -> None:
    r = httpx.get(f"{public}/", headers={"X-Lab-User": "nobody.here"}, timeout=10)
    assert r.status_code == 403 and "lab directory" in r.text


def test_the_sign_in_form_picks_the_user_by_cookie(lab: Any, public: str) -> None:
    form = httpx.get(f"{public}/lab-login", timeout=10)
    assert form.status_code == 200 and "<option value='leia.organa'" in form.text
    r = httpx.get(f"{public}/lab-login", params={"user": "leia.organa"}, timeout=10)
    assert r.status_code == 302 and r.headers["location"] == "/"
    assert r.cookies.get("lab_user") == "leia.organa"
    doc = httpx.get(f"{public}/headers.json", cookies={"lab_user": "leia.organa"}, timeout=10).json()
    assert _value(doc, "oag_username") == f"leia.organa@{lab.cfg.ldap.mail_domain}"
    assert httpx.get(f"{public}/lab-login", params={"user": "nobody.here"}, timeout=10).status_code == 403


def test_internal_app_refuses_anything_but_loopback(lab: Any) -> None:
    try:
        r = httpx.get(f"http://{lab.addr}:{lab.port('HEADERAPP_INTERNAL_PORT')}/", timeout=10)
    except httpx.ConnectError:
        if lab.target == "host" and lab.cfg.core.bind == "127.0.0.1":  # the role listens on loopback only
            pytest.skip("not applicable here: with LAB_BIND=127.0.0.1 the internal app listens on loopback only")
        raise
    assert r.status_code == 403, f"the internal-only app answered {r.status_code}: allow 127.0.0.1; deny all; missing?"


def test_the_page_highlights_identity_headers(lab: Any, public: str) -> None:
    r = httpx.get(f"{public}/", headers={"X-Lab-User": "luke.skywalker"}, timeout=10)
    assert r.status_code == 200 and '<tr class="identity"><th>oag_username</th>' in r.text
    assert "decoded: <code>luke.skywalker@" in r.text


def test_nginx_runs_with_the_set_misc_and_lua_modules(lab: Any) -> None:
    host = lab.host("oag-sim")
    for package in ("nginx", "libnginx-mod-http-ndk", "libnginx-mod-http-set-misc", "libnginx-mod-http-lua"):
        assert host.package(package).is_installed, package
    assert host.run("nginx -t").rc == 0, host.run("nginx -t").stderr


def test_header_app_runs_unprivileged(lab: Any) -> None:
    procs = [p for p in lab.host("header-app").process.filter(comm="python3") if "lab.headerapp" in p.args]
    assert procs, lab.logs("header-app")
    assert all(p.user not in ("root", "0") for p in procs)
