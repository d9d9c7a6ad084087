"""`lab up headerapp` for real: `lab verify`, `lab headerapp test`, both article snippets, a broken
snippet refused by `nginx -t` while the last good code keeps serving, and a second `up` that
changes nothing. One lab for the whole module."""

from __future__ import annotations

import base64

import docker
import pytest

from lab import RESOURCES

pytestmark = [pytest.mark.docker, pytest.mark.slow]

# The article's second example (first and last name joined), as an SE would paste it.
NAMES_SNIPPET = """allow 127.0.0.1;
deny all;
set $val "${http_FirstName}${http_LastName}";
set_encode_base64 $authzHeader $val;
proxy_set_header AUTHORIZATION $authzHeader;
"""
# The article's Lua alternative for one field (Debian's libnginx-mod-http-lua).
LUA_SNIPPET = """allow 127.0.0.1;
deny all;
set_by_lua_block $authzHeader  {
 local val =  ngx.req.get_headers()['oag_username']
 return ngx.encode_base64(val)
}

proxy_set_header AUTHORIZATION $authzHeader;
"""
# ... and its two-field version, typo included (`laststname`): nginx -t passes, requests fail.
LUA_TYPO_SNIPPET = """allow 127.0.0.1;
deny all;
set_by_lua_block $authzHeader  {
 local firstname =  ngx.req.get_headers()['FirstName']
 local laststname =  ngx.req.get_headers()['LastName']
 local val =  firstname..lastname
 return ngx.encode_base64(val)
}

proxy_set_header AUTHORIZATION $authzHeader;
"""
BROKEN_SNIPPET = """allow 127.0.0.1;
deny all;
set_encode_base64 $authzHeader $http_oag_username
proxy_set_header AUTHORIZATION $authzHeader;
"""


@pytest.fixture(scope="module")
def hlab(make_lab):  # type: ignore[no-untyped-def]
    return make_lab(["headerapp"], name="headerapp")


def oag_container(hlab) -> docker.models.containers.Container:  # type: ignore[no-untyped-def]
    found = docker.from_env().containers.list(
        filters={"label": [f"com.docker.compose.project={hlab.cfg.core.project}", "com.docker.compose.service=oag-sim"]}
    )
    assert len(found) == 1
    return found[0]


def write_snippet(hlab, text: str) -> None:  # type: ignore[no-untyped-def]
    (hlab.dir / "data" / "oag-sim" / "custom.conf").write_text(text)


def test_verify_passes(hlab) -> None:  # type: ignore[no-untyped-def]
    result = hlab.verify("headerapp")
    assert "checks passed" in result.stdout, result.stdout + result.stderr


def test_default_custom_code_is_seeded_from_the_article(hlab) -> None:  # type: ignore[no-untyped-def]
    seeded = (hlab.dir / "data" / "oag-sim" / "custom.conf").read_text()
    assert seeded == (RESOURCES / "lab/data/headerapp/custom.conf").read_text()


def test_test_shows_the_username_decoded_from_authorization(hlab) -> None:  # type: ignore[no-untyped-def]
    login = f"leia.organa@{hlab.cfg.ldap.mail_domain}"
    out = hlab.run("headerapp", "test", "--user", "leia.organa").stdout
    assert f"{base64.b64encode(login.encode()).decode()}  (decoded: {login})" in out
    assert out.strip().splitlines()[-1].startswith("ok: Authorization")


def test_unknown_user_is_one_line_exit_2(hlab) -> None:  # type: ignore[no-untyped-def]
    proc = hlab.run("headerapp", "test", "--user", "jar.jar", check=False)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "no user 'jar.jar'" in proc.stderr


def test_second_snippet_joins_first_and_last_name(hlab) -> None:  # type: ignore[no-untyped-def]
    write_snippet(hlab, NAMES_SNIPPET)
    assert "reloaded" in hlab.run("headerapp", "reload").stdout
    out = hlab.run("headerapp", "test", "--user", "han.solo", "--expect", "names").stdout
    assert "(decoded: HanSolo)" in out
    wrong = hlab.run("headerapp", "test", "--user", "han.solo", check=False)  # expects the username
    assert wrong.returncode == 1 and "decodes to 'HanSolo', expected 'han.solo@" in wrong.stderr


def test_lua_snippet_encodes_the_username(hlab) -> None:  # type: ignore[no-untyped-def]
    write_snippet(hlab, LUA_SNIPPET)
    assert "reloaded" in hlab.run("headerapp", "reload").stdout
    out = hlab.run("headerapp", "test", "--user", "c-3po").stdout
    assert f"(decoded: c-3po@{hlab.cfg.ldap.mail_domain})" in out
    write_snippet(hlab, LUA_TYPO_SNIPPET)
    assert "reloaded" in hlab.run("headerapp", "reload").stdout
    typo = hlab.run("headerapp", "test", "--expect", "names", check=False)
    assert typo.returncode == 1 and "oag-sim answered 500" in typo.stderr, typo.stdout + typo.stderr
    write_snippet(hlab, NAMES_SNIPPET)
    hlab.run("headerapp", "reload")


def test_broken_snippet_is_refused_with_nginx_line_and_old_code_serves(hlab) -> None:  # type: ignore[no-untyped-def]
    before = oag_container(hlab)
    started = before.attrs["State"]["StartedAt"]
    active = (hlab.dir / "data" / "oag-sim" / "active.conf").read_text()
    write_snippet(hlab, BROKEN_SNIPPET)
    proc = hlab.run("headerapp", "reload", check=False)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert "custom.conf line 4:" in proc.stderr and "(nginx -t)" in proc.stderr, proc.stderr
    assert (hlab.dir / "data" / "oag-sim" / "active.conf").read_text() == active
    assert "(decoded: LukeSkywalker)" in hlab.run("headerapp", "test", "--expect", "names").stdout
    after = oag_container(hlab)
    after.reload()
    assert after.id == before.id and after.attrs["State"]["StartedAt"] == started  # never restarted


def test_second_up_changes_nothing(hlab) -> None:  # type: ignore[no-untyped-def]
    write_snippet(hlab, (RESOURCES / "lab/data/headerapp/custom.conf").read_text())
    hlab.run("headerapp", "reload")
    client = docker.from_env()
    labels = [f"com.docker.compose.project={hlab.cfg.core.project}"]
    before = sorted(c.id for c in client.containers.list(filters={"label": labels}))
    hlab.up("headerapp")
    assert sorted(c.id for c in client.containers.list(filters={"label": labels})) == before
    assert hlab.run("headerapp", "reload").returncode == 0  # unchanged: nothing to reload


def test_reload_when_the_stack_is_down_is_one_line_exit_2(hlab) -> None:  # type: ignore[no-untyped-def]
    hlab.run("down")
    proc = hlab.run("headerapp", "reload", check=False)
    assert proc.returncode == 2 and "run `lab up headerapp`" in proc.stderr
    proc = hlab.run("headerapp", "test", check=False)
    assert proc.returncode == 2 and "does not answer" in proc.stderr
