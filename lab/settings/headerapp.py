"""The header lab (`header-app` behind `oag-sim`): ports, the sample user, the identity headers."""

from __future__ import annotations

import re

from pydantic import field_validator

from lab.settings.base import Section, check_domain, env, net_port

#: what an identity header may carry: a field of the lab directory's people (lab/company.py Person)
ATTRIBUTES = ("login", "uid", "given_name", "sn", "cn", "display_name", "title", "organization",
              "department", "employee_number", "groups")  # fmt: skip
DEFAULT_ATTRIBUTES = "oag_username=login,FirstName=given_name,LastName=sn,oag_groups=groups"
_HEADER_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class HeaderappSettings(Section):
    port: int = net_port("HEADERAPP_PORT", 8081)
    internal_port: int = net_port("HEADERAPP_INTERNAL_PORT", 8082)
    default_user: str = env(
        "HEADERAPP_DEFAULT_USER",
        "luke.skywalker",
        pattern=r"^[A-Za-z0-9._-]{1,64}$",
        description="use a uid of the lab directory, e.g. luke.skywalker",
    )
    attributes: str = env("HEADERAPP_ATTRIBUTES", DEFAULT_ATTRIBUTES)
    public_domain: str = env("HEADERAPP_PUBLIC_DOMAIN", "testapp.domain.local")

    @field_validator("attributes")
    @classmethod
    def _attributes(cls, value: str) -> str:
        pairs = [p.strip() for p in value.split(",") if p.strip()]
        if not pairs:
            raise ValueError("is empty; list header=attribute pairs, e.g. oag_username=login")
        for pair in pairs:
            name, _, attr = (s.strip() for s in pair.partition("="))
            if not _HEADER_NAME.match(name) or attr not in ATTRIBUTES:
                raise ValueError(
                    f"has {pair!r}, not a header=attribute pair; use header names of letters, digits, "
                    f"'-' and '_', and attributes from {', '.join(ATTRIBUTES)}"
                )
        return ",".join(pairs)

    @field_validator("public_domain")
    @classmethod
    def _domain(cls, value: str) -> str:
        return check_domain(value)

    @property
    def header_map(self) -> tuple[tuple[str, str], ...]:
        """(header name as sent, directory attribute) pairs, in order."""
        return tuple((n.strip(), a.strip()) for n, _, a in (p.partition("=") for p in self.attributes.split(",")))

    @property
    def highlight(self) -> tuple[str, ...]:
        """The headers header-app highlights: the identity headers plus Authorization."""
        return (*(n for n, _ in self.header_map), "Authorization")
