"""A connection to a running lab directory, and what it tells about itself through `cn=config`.

Two binds: `cn=admin,<base>` for data and `cn=admin,cn=config` for configuration (RFC 4512 §5.1
root DSE, OpenLDAP's `cn=config` backend). The database DN (`olcDatabase={1}mdb` on Debian,
`{2}mdb` on other builds) and the module path are discovered, never assumed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import ldap3
from ldap3.core.exceptions import LDAPException

from lab.errors import Problem, TargetError

CONFIG_DN = "cn=admin,cn=config"


@dataclass(frozen=True)
class Endpoint:
    """Where the directory answers and how to bind to it."""

    host: str
    port: int
    base_dn: str
    admin_dn: str
    admin_password: str
    config_password: str


class Directory:
    """Open admin and cn=config connections; discover the data DB and module settings."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        self.base_dn = endpoint.base_dn
        self.data = self._bind(endpoint.admin_dn, endpoint.admin_password)
        self.config = self._bind(CONFIG_DN, endpoint.config_password)
        self.db_dn = self._database_dn()
        self.module_dn, self.module_path, self.loaded = self._modules()

    def _bind(self, dn: str, password: str) -> ldap3.Connection:
        server = ldap3.Server(self.endpoint.host, port=self.endpoint.port, connect_timeout=10, get_info=ldap3.NONE)
        where = f"ldap://{self.endpoint.host}:{self.endpoint.port}"
        try:
            conn = ldap3.Connection(server, dn, password, raise_exceptions=False, receive_timeout=60)
            ok = conn.bind()
        except LDAPException as exc:
            raise TargetError(
                Problem(f"cannot reach the directory at {where}: {exc}", "start it: `lab up ldap`")
            ) from None
        if not ok:
            raise TargetError(
                Problem(
                    f"bind as {dn} at {where} failed: {conn.result.get('description')}",
                    "check LDAP_ADMIN_PASSWORD / LDAP_CONFIG_PASSWORD in .env",
                )
            )
        return conn

    def _database_dn(self) -> str:
        self.config.search("cn=config", f"(olcSuffix={_esc(self.base_dn)})", attributes=["olcSuffix"])
        if not self.config.entries:
            raise TargetError(Problem(f"no database in cn=config serves {self.base_dn}"))
        return str(self.config.entries[0].entry_dn)

    def _modules(self) -> tuple[str, str, set[str]]:
        self.config.search(
            "cn=config",
            "(objectClass=olcModuleList)",
            ldap3.LEVEL,
            attributes=["olcModulePath", "olcModuleLoad"],
        )
        loaded: set[str] = set()
        module_dn, path = "", ""
        for entry in self.config.entries:
            attrs = entry.entry_attributes_as_dict
            module_dn = module_dn or str(entry.entry_dn)
            path = path or next(iter(attrs.get("olcModulePath", [])), "")
            for value in attrs.get("olcModuleLoad", []):
                name = str(value).split("}", 1)[-1].rsplit("/", 1)[-1]
                loaded.add(name.removesuffix(".so").removesuffix(".la"))
        return module_dn, path or "/usr/lib/ldap", loaded

    # --- small helpers used by the scenarios -----------------------------------------------

    def exists(self, dn: str, conn: ldap3.Connection | None = None) -> bool:
        conn = conn or self.data
        return bool(conn.search(dn, "(objectClass=*)", ldap3.BASE, attributes=["1.1"]))

    def find(self, flt: str, attributes: list[str] | None = None) -> list[Any]:
        self.data.search(self.base_dn, flt, ldap3.SUBTREE, attributes=attributes or ["1.1"])
        return list(self.data.entries)

    def find_user(self, login: str, attributes: list[str] | None = None) -> Any | None:
        found = self.find(f"(uid={_esc(login)})", attributes)
        return found[0] if found else None

    def check(self, conn: ldap3.Connection, what: str) -> None:
        """Raise with the server's words when the last operation failed."""
        if conn.result.get("result") not in (0, None):
            raise TargetError(
                Problem(f"{what} failed: {conn.result.get('description')} {conn.result.get('message', '')}".strip())
            )

    def load_module(self, name: str) -> bool:
        """Load `name` (e.g. `constraint`) into the existing module list, once. True if changed."""
        if name in self.loaded:
            return False
        if self.module_dn:
            self.config.modify(self.module_dn, {"olcModuleLoad": [(ldap3.MODIFY_ADD, [name])]})
        else:
            self.config.add(
                "cn=module,cn=config",
                ["olcModuleList"],
                {"olcModulePath": self.module_path, "olcModuleLoad": name},
            )
        self.check(self.config, f"loading module {name} from {self.module_path}")
        self.loaded.add(name)
        return True

    def overlay_dn(self, name: str) -> str | None:
        """The DN of overlay `name` on the data database (values look like `{2}constraint`)."""
        self.config.search(self.db_dn, "(objectClass=olcOverlayConfig)", ldap3.LEVEL, attributes=["olcOverlay"])
        for entry in self.config.entries:
            values = entry.entry_attributes_as_dict.get("olcOverlay", [])
            if any(str(v).split("}", 1)[-1] == name for v in values):
                return str(entry.entry_dn)
        return None

    def close(self) -> None:
        for conn in (self.data, self.config):
            conn.unbind()


def _esc(value: str) -> str:
    """Escape a filter assertion value (RFC 4515 §3)."""
    out = value.replace("\\", "\\5c").replace("*", "\\2a").replace("(", "\\28")
    return out.replace(")", "\\29").replace("\0", "\\00")
