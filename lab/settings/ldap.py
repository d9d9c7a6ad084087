"""The LDAP lab: directory naming, passwords and published ports."""

from __future__ import annotations

import re
import socket

from pydantic import field_validator, model_validator

from lab.settings.base import Section, check_domain, domain_to_dn, env, net_port, secret


class LdapSettings(Section):
    domain: str = env("LDAP_DOMAIN", "galaxy.universe")
    base_dn_set: str = env("LDAP_BASE_DN", "")
    organization: str = env("LDAP_ORGANIZATION", "The Galaxy", min_length=1)
    mail_domain: str = env("LDAP_MAIL_DOMAIN", "galaxy.local")
    admin_password: str = secret("LDAP_ADMIN_PASSWORD")
    config_password: str = secret("LDAP_CONFIG_PASSWORD")
    demo_password: str = secret("LDAP_DEMO_PASSWORD", length=16, min_length=8)
    port: int = net_port("LDAP_PORT", 1389)
    ldaps_port: int = net_port("LDAPS_PORT", 1636)
    ui_port: int = net_port("LDAP_UI_PORT", 5000)
    cert_hostname: str = env("LDAP_CERT_HOSTNAME", "")
    agent_url: str = env("OKTA_LDAP_AGENT_URL", "")
    photos: bool = env("LDAP_PHOTOS", True)

    @field_validator("domain", "mail_domain")
    @classmethod
    def _is_domain(cls, value: str) -> str:
        return check_domain(value)

    @field_validator("cert_hostname")
    @classmethod
    def _is_servable_hostname(cls, value: str) -> str:
        return check_cert_hostname(value)

    @model_validator(mode="after")
    def _base_dn_matches_domain(self) -> LdapSettings:
        wanted = domain_to_dn(self.domain)
        given = self.base_dn_set.replace(" ", "").lower()
        if given and given != wanted:
            raise ValueError(
                f"LDAP_BASE_DN={self.base_dn_set!r} does not match LDAP_DOMAIN={self.domain!r}; "
                f"remove LDAP_BASE_DN (it is derived: {wanted}) or make them agree"
            )
        return self

    @property
    def base_dn(self) -> str:
        return domain_to_dn(self.domain)

    @property
    def admin_dn(self) -> str:
        return f"cn=admin,{self.base_dn}"

    @property
    def cert_host(self) -> str:
        """The extra SAN of the LDAPS certificate: LDAP_CERT_HOSTNAME, else this machine's name.

        A machine name that GnuTLS would refuse (see `check_cert_hostname`) is left out: the
        certificate still names `openldap`, `localhost` and 127.0.0.1.
        """
        if self.cert_hostname:
            return self.cert_hostname
        name = socket.gethostname().lower()
        return name if _HOSTNAME.match(name) else "localhost"


#: A DNS name as RFC 1123 section 2.1 spells host names: letters, digits and hyphens, dot-separated.
_HOSTNAME = re.compile(r"^(?=.{1,253}$)(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))*$")


def check_cert_hostname(value: str) -> str:
    """Validate LDAP_CERT_HOSTNAME, the extra dNSName of slapd's server certificate.

    Debian's slapd is linked against GnuTLS, which refuses to load a certificate whose
    subjectAltName dNSName is not an RFC 1123 host name (an `_`, a space, a leading hyphen):
    slapd would then start without LDAPS. Empty means "this machine's name".
    Returns the name lower-cased; raises ValueError naming the fix.
    """
    value = value.strip().lower()
    if value and not _HOSTNAME.match(value):
        raise ValueError(
            "is not a host name slapd's TLS library (GnuTLS) will serve; use letters, digits, "
            "hyphens and dots only (no '_'), e.g. lab-host.example, or leave it empty"
        )
    return value
