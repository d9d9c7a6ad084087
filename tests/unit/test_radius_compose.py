"""The radius stack's catalog entry, compose fragment and demo card, rendered (no Docker)."""

from __future__ import annotations

import io

import pytest
import yaml
from dotenv import dotenv_values

from lab.catalog import load_catalog
from lab.config import LabConfig
from lab.envfile import example_path, render_env
from lab.errors import ConfigError
from lab.render import render_lab


def config(**extra: str) -> LabConfig:
    text = render_env(example_path().read_text(), extra)
    values = {k: v or "" for k, v in dotenv_values(stream=io.StringIO(text)).items()}
    return LabConfig.from_mapping(values)


def test_lab_init_generates_an_okta_sized_secret() -> None:
    cfg = config()
    assert len(cfg.radius.shared_secret) == 16  # the Okta RADIUS app's Secret Key limit
    assert len(cfg.radius.totp_key) == 32


def test_radius_stack_brings_the_directory() -> None:
    names = [c.service for c in load_catalog().select(["radius"])]
    assert names == ["openldap", "radius", "openvpn", "okta-radius-agent"]


@pytest.mark.parametrize(
    ("bind", "published"), [("127.0.0.1", "127.0.0.1:11812:1812/udp"), ("::1", "[::1]:11812:1812/udp")]
)
def test_udp_port_on_lab_bind_and_secrets_from_the_environment(tmp_path, bind: str, published: str) -> None:  # type: ignore[no-untyped-def]
    cfg = config(LAB_BIND=bind, RADIUS_PORT="11812", RADIUS_CLIENTS="192.168.1.0/24, 10.0.0.5/32")
    result = render_lab(cfg, [load_catalog().get("radius")], tmp_path)
    text = result.compose_file.read_text()
    svc = yaml.safe_load(text)["services"]["radius"]
    assert svc["ports"] == [published]
    assert svc["environment"]["RADIUS_SECRET"] == "${RADIUS_SECRET}"
    assert svc["environment"]["RADIUS_CLIENTS"] == "192.168.1.0/24,10.0.0.5/32"
    assert cfg.radius.shared_secret not in text and cfg.radius.totp_key not in text
    assert (tmp_path / "build" / "radius" / "raddb" / "sites" / "lab").is_file()


def test_bad_client_network_is_one_problem() -> None:
    with pytest.raises(ConfigError) as err:
        config(RADIUS_CLIENTS="192.168.1.0/24,lan")
    assert len(err.value.problems) == 1
    assert "RADIUS_CLIENTS" in str(err.value) and "'lan'" in str(err.value)


def test_openvpn_fragment_tun_port_and_lab_net_without_message_authenticator(tmp_path) -> None:  # type: ignore[no-untyped-def]
    cfg = config(OPENVPN_PORT="11194")
    comps = [c for c in load_catalog().select(["radius"]) if not c.optional]  # the agent needs its .deb
    assert [c.service for c in comps] == ["openldap", "radius", "openvpn"]
    services = yaml.safe_load(render_lab(cfg, comps, tmp_path).compose_file.read_text())["services"]
    vpn = services["openvpn"]
    assert vpn["ports"] == ["127.0.0.1:11194:1194/udp"]
    assert vpn["cap_add"] == ["NET_ADMIN"] and vpn["devices"] == ["/dev/net/tun:/dev/net/tun"]
    assert vpn["environment"]["RADIUS_SECRET"] == "${RADIUS_SECRET}"
    # the OpenVPN RADIUS plugin sends no Message-Authenticator: spared on the lab network only then
    assert services["radius"]["environment"]["RADIUS_LAB_NET_REQUIRE_MA"] == "no"
    alone = yaml.safe_load(render_lab(cfg, comps[:2], tmp_path / "alone").compose_file.read_text())["services"]
    assert alone["radius"]["environment"]["RADIUS_LAB_NET_REQUIRE_MA"] == "yes"


def test_okta_radius_agent_is_optional_and_publishes_its_own_port(tmp_path) -> None:  # type: ignore[no-untyped-def]
    comp = load_catalog().get("okta-radius-agent")
    assert comp.optional and comp.artifact and comp.artifact.glob == "OktaRadiusAgentSetup-*.deb"
    assert comp.configure == ("/usr/local/lib/okta-lab/configure.sh",)
    cfg = config(OKTA_RADIUS_AGENT_PORT="21812", RADIUS_TIMEOUT="120")
    svc = yaml.safe_load(render_lab(cfg, [comp], tmp_path).compose_file.read_text())["services"]["okta-radius-agent"]
    assert svc["ports"] == ["127.0.0.1:21812:1812/udp"]
    assert svc["environment"]["RADIUS_MFA_TIMEOUT"] == "120"
    assert "../data/okta-radius-agent/config:/opt/okta/ragent/user/config/radius" in svc["volumes"]
