"""The header lab's own logic: header-app, the rendered oag-sim config, settings, `lab headerapp`."""

from __future__ import annotations

import base64
import http.client
import json
import threading
from pathlib import Path

import pytest
import yaml

from lab import RESOURCES
from lab.catalog import load_catalog
from lab.company import load_company
from lab.config import LabConfig
from lab.envfile import write_env
from lab.errors import ConfigError, RenderError, UsageError
from lab.headerapp.app import AppSettings, handle, make_server
from lab.headerapp.check import Received, expected_authorization, judge, parse_nginx_test
from lab.headerapp.directory import attribute, find_person, login_page, nginx_str
from lab.render import render_lab
from tests.conftest import free_port, lab_cli

SETTINGS = AppSettings(highlight=("oag_username", "Authorization"))


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


# --- header-app -------------------------------------------------------------------------------


def test_json_lists_every_header_in_order_decoded_and_flagged() -> None:
    headers = [("AUTHORIZATION", b64("luke")), ("oag_username", "luke"), ("Accept", "application/json")]
    r = handle("GET", "/anything?x=1", headers, SETTINGS)
    doc = json.loads(r.body)
    assert r.status == 200 and r.content_type == "application/json"
    assert [(h["name"], h["decoded"], h["identity"]) for h in doc["headers"]] == [
        ("AUTHORIZATION", "luke", True),
        ("oag_username", None, True),
        ("Accept", None, False),
    ]
    assert doc["identity"] == {"AUTHORIZATION": "luke", "oag_username": "luke"}
    assert doc["path"] == "/anything"


def test_the_page_escapes_values_and_highlights_identity_rows() -> None:
    r = handle("GET", "/", [("oag_username", "<script>x</script>"), ("Accept", "text/html")], SETTINGS)
    text = r.body.decode()
    assert r.content_type.startswith("text/html")
    assert "<script>x" not in text and "&lt;script&gt;x" in text
    assert '<tr class="identity"><th>oag_username</th>' in text


def test_json_is_chosen_by_path_query_or_accept() -> None:
    for target, accept in (("/headers.json", "*/*"), ("/?format=json", "*/*"), ("/", "application/json")):
        assert handle("GET", target, [("Accept", accept)], SETTINGS).content_type == "application/json"
    assert handle("GET", "/health", [], SETTINGS).body == b'{"status": "ok"}\n'


def test_highlight_list_comes_from_the_environment() -> None:
    s = AppSettings.from_environ({"HEADERAPP_HIGHLIGHT": "FirstName, LastName", "HEADERAPP_LISTEN_PORT": "9"})
    assert s.highlight == ("FirstName", "LastName") and s.port == 9
    assert AppSettings.from_environ({}).highlight[0] == "oag_username"


def test_the_server_keeps_header_names_exactly_as_sent() -> None:
    server = make_server(AppSettings(host="127.0.0.1", port=0))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        conn = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=5)
        conn.request("GET", "/headers.json", headers={"oag_username": "luke", "FirstName": "Luke"})
        resp = conn.getresponse()
        names = [h["name"] for h in json.loads(resp.read())["headers"]]
        assert resp.status == 200 and resp.getheader("X-Content-Type-Options") == "nosniff"
        assert "oag_username" in names and "FirstName" in names  # not HTTP_OAG_USERNAME, not firstname
    finally:
        server.shutdown()
        server.server_close()


# --- directory values and nginx quoting -------------------------------------------------------


def test_people_are_found_by_uid_or_login_and_unknown_ones_refused() -> None:
    company = load_company("galaxy")
    assert find_person(company, "leia.organa", "galaxy.local").uid == "leia.organa"
    assert find_person(company, "leia.organa@galaxy.local", "galaxy.local").uid == "leia.organa"
    with pytest.raises(UsageError, match="no user 'nobody'"):
        find_person(company, "nobody", "galaxy.local")


def test_attributes_are_what_oag_would_send() -> None:
    luke = load_company("galaxy").person("luke.skywalker")
    assert attribute(luke, "login", "galaxy.local") == "luke.skywalker@galaxy.local"
    assert attribute(luke, "given_name", "galaxy.local") == "Luke"
    assert "Jedi-Council" in attribute(luke, "groups", "galaxy.local").split(",")


def test_nginx_strings_are_quoted_and_dollars_refused() -> None:
    assert nginx_str('a "b" \\c') == '"a \\"b\\" \\\\c"'
    with pytest.raises(RenderError):
        nginx_str("$http_x")


# --- `lab headerapp test` and `reload` logic --------------------------------------------------


def test_nginx_refusals_are_read_with_their_line() -> None:
    out = (
        '2026/12/03 12:54:38 [emerg] 55#55: unknown directive "bogus" in /etc/nginx/okta-lab-custom/active.conf:4\n'
        "nginx: configuration file /etc/nginx/nginx.conf test failed\n"
    )
    err = parse_nginx_test(out)
    assert err is not None and (err.message, err.file, err.line) == (
        'unknown directive "bogus"',
        "/etc/nginx/okta-lab-custom/active.conf",
        4,
    )
    err = parse_nginx_test('nginx: [emerg] unexpected end of file, expecting ";" or "}" in /x.conf:9')
    assert err is not None and err.line == 9
    assert parse_nginx_test("nginx: the configuration file syntax is ok") is None


def test_expected_authorization_follows_the_snippet() -> None:
    luke = load_company("galaxy").person("luke.skywalker")
    default = (("oag_username", "login"), ("FirstName", "given_name"))
    assert expected_authorization(luke, "username", default, "galaxy.local") == "luke.skywalker@galaxy.local"
    assert expected_authorization(luke, "username", (("oag_username", "uid"),), "galaxy.local") == "luke.skywalker"
    assert expected_authorization(luke, "names", default, "galaxy.local") == "LukeSkywalker"


def test_judge_accepts_only_base64_of_the_expected_value() -> None:
    def got(value: str) -> Received:
        return Received(200, {"headers": [{"name": "AUTHORIZATION", "value": value}]})

    assert judge(got(b64("luke")), "luke")[0]
    assert not judge(got(b64("leia")), "luke")[0]
    assert "not base64" in judge(got("Bearer !!"), "luke")[1]
    assert "no Authorization" in judge(Received(200, {"headers": []}), "luke")[1]
    assert "403" in judge(Received(403, {}, "forbidden"), "luke")[1]


# --- settings and rendering -------------------------------------------------------------------


def _render(tmp_path: Path, **env: str) -> tuple[LabConfig, Path]:
    write_env(tmp_path / ".env", force=True, overrides={"LAB_STACKS": "headerapp", **env})
    cfg = LabConfig.from_env(tmp_path / ".env")
    render_lab(cfg, load_catalog().select(["headerapp"]), tmp_path / ".lab")
    return cfg, tmp_path / ".lab"


def test_bad_identity_header_lists_are_refused_with_a_hint() -> None:
    with pytest.raises(ConfigError) as exc:
        LabConfig.from_mapping({"HEADERAPP_ATTRIBUTES": "oag_username=password"})
    assert "HEADERAPP_ATTRIBUTES" in str(exc.value) and "given_name" in str(exc.value)
    with pytest.raises(ConfigError, match="HEADERAPP_PUBLIC_DOMAIN"):
        LabConfig.from_mapping({"HEADERAPP_PUBLIC_DOMAIN": "not a domain"})


def test_oag_sim_maps_every_directory_user_and_publishes_on_lab_bind(tmp_path: Path) -> None:
    cfg, out = _render(tmp_path, HEADERAPP_PORT="18081", HEADERAPP_INTERNAL_PORT="18082")
    conf = (out / "oag-sim/config/headerapp/oag-sim.conf").read_text()
    for person in load_company("galaxy").people:
        assert f'"{person.login("galaxy.local")}" "{person.uid}";' in conf
    assert "proxy_set_header oag_username $lab_h1;" in conf and "proxy_set_header FirstName $lab_h2;" in conf
    assert "include /etc/nginx/okta-lab-custom/active.conf;" in conf
    services = yaml.safe_load((out / "compose.yml").read_text())["services"]
    assert services["oag-sim"]["ports"] == ["127.0.0.1:18081:8080", "127.0.0.1:18082:8090"]
    assert "ports" not in services["header-app"]  # reached through the gateway only
    # a changed gateway input recreates oag-sim, so nginx reads the re-rendered configuration
    assert services["oag-sim"]["environment"]["LAB_GATEWAY_INPUTS"].startswith("luke.skywalker|oag_username=login")
    assert services["header-app"]["environment"]["HEADERAPP_HIGHLIGHT"] == ",".join(cfg.headerapp.highlight)


def test_the_default_custom_code_is_the_packaged_snippet(tmp_path: Path) -> None:
    _, out = _render(tmp_path)
    default = (out / "oag-sim/config/headerapp/custom.default").read_text()
    assert default == (RESOURCES / "lab/data/headerapp/custom.conf").read_text()
    assert "allow 127.0.0.1;\ndeny all;" in default
    assert "set_encode_base64 $authzHeader $http_oag_username;" in default


def test_test_command_says_in_one_line_when_the_stack_is_not_up(tmp_path: Path) -> None:
    write_env(tmp_path / ".env", force=True, overrides={"HEADERAPP_PORT": str(free_port())})
    proc = lab_cli(tmp_path, "headerapp", "test", check=False)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert "run `lab up headerapp`" in proc.stderr
    proc = lab_cli(tmp_path, "headerapp", "test", "--user", "nobody", check=False)
    assert proc.returncode == 2 and "no user 'nobody'" in proc.stderr


def test_a_default_user_outside_the_directory_is_refused_at_render(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="HEADERAPP_DEFAULT_USER='jar.jar'"):
        _render(tmp_path, HEADERAPP_DEFAULT_USER="jar.jar")


def test_the_sign_in_form_lists_every_user_escaped_on_one_line() -> None:
    company = load_company("galaxy")
    page = login_page(company, "leia.organa")
    assert "\n" not in page and "$" not in page
    assert "<option value='leia.organa' selected>Leia Organa (leia.organa)</option>" in page
    assert page.count("<option ") == len(company.people)
    nginx_str(page)  # fits in the rendered configuration
