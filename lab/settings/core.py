"""Keys every lab uses: project name, bind address, base images, which stacks run."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address, ip_address

from pydantic import field_validator

from lab.settings.base import Section, env


class CoreSettings(Section):
    project: str = env(
        "LAB_PROJECT",
        "oktalab",
        pattern=r"^[a-z0-9][a-z0-9_-]{0,30}$",
        description="use lower-case letters, digits, '-' and '_' (compose project name)",
    )
    bind: str = env("LAB_BIND", "127.0.0.1")  # an IP literal, IPv6 without brackets (see url_host)
    base_image: str = env("LAB_BASE_IMAGE", "debian:bookworm-slim", min_length=1)
    #: Debian trixie base for images that need newer packages than bookworm (okta-mcp: Python 3.13);
    #: `lab base-image --suite trixie` creates it.
    trixie_base_image: str = env("LAB_TRIXIE_BASE_IMAGE", "debian:trixie-slim", min_length=1)
    rhel_base_image: str = env("LAB_RHEL_BASE_IMAGE", "quay.io/centos/centos:stream9-minimal")
    stacks: str = env("LAB_STACKS", "ldap,jdbc,viewer")
    health_timeout: int = env("LAB_HEALTH_TIMEOUT", 300, ge=10, le=3600)
    company: str = env("LAB_COMPANY", "galaxy", min_length=1)
    okta_org: str = env("OKTA_ORG", "")
    extra_ca_certs: str = env("LAB_EXTRA_CA_CERTS", "auto")

    @field_validator("bind")
    @classmethod
    def _bind_is_ip(cls, value: str) -> str:
        try:
            text = value.strip()
            if text.startswith("[") and text.endswith("]"):
                text = text[1:-1]  # `[::1]`, as in URLs and compose
            addr: IPv4Address | IPv6Address = ip_address(text)
        except ValueError:
            raise ValueError(
                "is not an IP address; use 127.0.0.1 (default, this machine only), ::1 (IPv6 loopback) "
                "or 0.0.0.0 to publish on every interface"
            ) from None
        return str(addr)

    @property
    def url_host(self) -> str:
        """LAB_BIND as it goes before `:port` in URLs and compose `ports:` (IPv6 in brackets, RFC 3986 3.2.2)."""
        return f"[{self.bind}]" if ":" in self.bind else self.bind

    @property
    def publishes_everywhere(self) -> bool:
        """True when LAB_BIND is a wildcard (0.0.0.0 or ::): services reachable from the network."""
        return ip_address(self.bind).is_unspecified

    @field_validator("okta_org")
    @classmethod
    def _org_is_host(cls, value: str) -> str:
        from lab.settings.mcp import check_org

        return check_org(value)

    @property
    def extra_ca_paths(self) -> list[str]:
        """CA files/folders image builds trust ("auto": this machine's local CAs)."""
        value = self.extra_ca_certs.strip()
        if value in ("", "none"):
            return []
        if value == "auto":
            return ["/usr/local/share/ca-certificates"]
        return [p.strip() for p in value.split(",") if p.strip()]

    @property
    def stack_list(self) -> list[str]:
        return [s.strip() for s in self.stacks.split(",") if s.strip()]
