"""LDIF helpers, {SSHA} hashing, the rendered base LDIF, scenario planning and config checks."""

from __future__ import annotations

import base64
import io

import pytest
from dotenv import dotenv_values

from lab.config import LabConfig
from lab.envfile import example_path, generate_secret, render_env, secret_lengths
from lab.errors import ConfigError, UsageError
from lab.ldap import scenarios
from lab.ldap.hashing import check_ssha, derive_salt, ssha, ssha_for
from lab.ldap.ldif import dn_value, fold, is_safe_string, ldif_line, postal, user_dn
from lab.render import base_context, template_env


def make_env(**overrides: str) -> dict[str, str]:
    text = render_env(example_path().read_text(), {})
    values = {k: v or "" for k, v in dotenv_values(stream=io.StringIO(text)).items()}
    for key, length in secret_lengths().items():
        if not values.get(key) and "_S3_" not in key:
            values[key] = generate_secret(length)
    values.update(overrides)
    return values


def render(cfg: LabConfig, name: str) -> str:
    return template_env().get_template(f"ldif/{name}.ldif.j2").render(**base_context(cfg, []))


def parse(text: str) -> list[dict[str, list[str]]]:
    """A small LDIF reader for assertions (unfolds lines, decodes `::`)."""
    entries: list[dict[str, list[str]]] = []
    for block in text.replace("\n ", "").split("\n\n"):
        entry: dict[str, list[str]] = {}
        for line in block.splitlines():
            if not line or line.startswith("#"):
                continue
            if "::" in line.split(" ", 1)[0]:
                key, value = line.split(":: ", 1)
                value = base64.b64decode(value).decode(errors="surrogateescape")  # jpegPhoto is binary
            else:
                key, value = line.split(": ", 1)
            entry.setdefault(key, []).append(value)
        if entry:
            entries.append(entry)
    return entries


def test_ssha_matches_slappasswd_format() -> None:
    hashed = ssha("P@ssword2024!", b"\x01\x02\x03\x04")
    assert hashed.startswith("{SSHA}")
    assert len(base64.b64decode(hashed[6:])) == 24
    assert check_ssha("P@ssword2024!", hashed)
    assert not check_ssha("wrong", hashed)


def test_salt_is_deterministic_per_user_and_key() -> None:
    assert derive_salt("k", "luke") == derive_salt("k", "luke")
    assert derive_salt("k", "luke") != derive_salt("k", "leia")
    assert derive_salt("k", "luke") != derive_salt("other", "luke")
    assert ssha_for("pw", "k", "luke") == ssha_for("pw", "k", "luke")


def test_ldif_line_base64_for_unsafe_values() -> None:
    assert ldif_line("cn", "Luke") == "cn: Luke"
    assert ldif_line("cn", "Padmé") == "cn:: " + base64.b64encode("Padmé".encode()).decode()
    assert ldif_line("description", " leading space").startswith("description:: ")
    assert ldif_line("description", ":colon").startswith("description:: ")
    assert not is_safe_string("trailing ")


def test_long_lines_fold_at_76() -> None:
    folded = fold("description: " + "x" * 200)
    assert all(len(line) <= 76 for line in folded.splitlines())
    assert folded.replace("\n ", "") == "description: " + "x" * 200


def test_dn_and_postal_escaping() -> None:
    assert dn_value("a,b+c") == "a\\,b\\+c"
    assert dn_value("#x ") == "\\#x\\ "
    assert postal("a$b\\c") == "a\\24b\\5Cc"
    assert user_dn("han.solo@galaxy.local", "dc=a,dc=b", "Resistance") == (
        "uid=han.solo@galaxy.local,ou=Resistance,ou=People,dc=a,dc=b"
    )


def test_rendered_people_have_every_attribute_and_bindable_hashes() -> None:
    cfg = LabConfig.from_mapping(make_env())
    people = parse(render(cfg, "20-people"))
    assert len(people) == 15
    luke = next(e for e in people if e["uid"] == ["luke.skywalker@galaxy.local"])
    for attr in ("cn", "sn", "givenName", "displayName", "title", "o", "departmentNumber",
                 "manager", "employeeNumber", "postalAddress", "mail"):  # fmt: skip
        assert luke[attr], attr
    assert luke["manager"] == ["uid=obiwan.kenobi@galaxy.local,ou=People,dc=galaxy,dc=universe"]
    assert all(check_ssha(cfg.ldap.demo_password, e["userPassword"][0]) for e in people)
    padme = next(e for e in people if e["uid"] == ["padme.amidala@galaxy.local"])
    assert padme["givenName"] == ["Padmé"]


def test_rendering_is_deterministic_and_domain_driven() -> None:
    values = make_env(LDAP_DOMAIN="acme.example", LDAP_MAIL_DOMAIN="acme.test")
    cfg = LabConfig.from_mapping(values)
    assert render(cfg, "20-people") == render(LabConfig.from_mapping(values), "20-people")
    base = parse(render(cfg, "10-base"))
    assert base[0]["dn"] == ["dc=acme,dc=example"] and base[0]["dc"] == ["acme"]
    groups = parse(render(cfg, "30-groups"))
    assert len(groups) == 8
    light = next(g for g in groups if g["cn"] == ["Light-Side"])
    assert len(light["uniqueMember"]) == 12
    assert light["uniqueMember"][0].endswith("@acme.test,ou=People,dc=acme,dc=example")


@pytest.mark.parametrize("domain", ["-bad.example", "single", "bad_label.example", "a..b", "x" * 64 + ".com"])
def test_invalid_ldap_domain_is_a_config_error(domain: str) -> None:
    with pytest.raises(ConfigError, match="LDAP_DOMAIN"):
        LabConfig.from_mapping(make_env(LDAP_DOMAIN=domain))


@pytest.mark.parametrize("name", ["lab_host.example", "-lead.example", "two words", "a..b", "x" * 64])
def test_cert_hostname_gnutls_would_refuse_is_a_config_error(name: str) -> None:
    with pytest.raises(ConfigError, match="LDAP_CERT_HOSTNAME=.*GnuTLS.*no '_'"):
        LabConfig.from_mapping(make_env(LDAP_CERT_HOSTNAME=name))


def test_cert_hostname_accepts_host_names_and_falls_back_safely(monkeypatch: pytest.MonkeyPatch) -> None:
    assert LabConfig.from_mapping(make_env(LDAP_CERT_HOSTNAME="Lab-Host.Example")).ldap.cert_host == "lab-host.example"
    assert LabConfig.from_mapping(make_env(LDAP_CERT_HOSTNAME="labhost")).ldap.cert_host == "labhost"
    monkeypatch.setattr("socket.gethostname", lambda: "build_box")
    assert LabConfig.from_mapping(make_env(LDAP_CERT_HOSTNAME="")).ldap.cert_host == "localhost"


def test_base_ldif_holds_a_lenient_default_password_policy() -> None:
    cfg = LabConfig.from_mapping(make_env())
    policy = next(e for e in parse(render(cfg, "10-base")) if e["dn"][0].startswith("cn=default,ou=pwpolicy"))
    assert policy["pwdLockout"] == ["TRUE"] and policy["pwdMaxFailure"] == ["0"]
    assert set(scenarios.POLICY) - set(policy), "the password-policy scenario must still tighten it"


def test_short_admin_password_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="LDAP_ADMIN_PASSWORD"):
        LabConfig.from_mapping(make_env(LDAP_ADMIN_PASSWORD="short123"))


def test_scenario_plan_orders_and_adds_prerequisites() -> None:
    assert [(s.name, asked) for s, asked in scenarios.plan(["move-to-ous"])] == [
        ("faction-ous", False),
        ("move-to-ous", True),
    ]
    assert [s.name for s, _ in scenarios.plan(list(reversed(scenarios.NAMES)))] == list(scenarios.NAMES)


def test_unknown_scenario_names_the_choices() -> None:
    with pytest.raises(UsageError, match="choose from schema, species"):
        scenarios.plan(["schema", "warp"])
