"""`.env` -> one validated, immutable `LabConfig`.

Every problem is collected and reported together, each with how to fix it.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dotenv import dotenv_values
from pydantic import ValidationError

from lab.errors import ConfigError, Problem
from lab.settings.aws import AwsSettings
from lab.settings.base import Section
from lab.settings.core import CoreSettings
from lab.settings.glpi import GlpiSettings
from lab.settings.headerapp import HeaderappSettings
from lab.settings.jdbc import JdbcSettings
from lab.settings.ldap import LdapSettings
from lab.settings.mcp import McpSettings
from lab.settings.radius import RadiusSettings
from lab.settings.scim import ScimSettings
from lab.settings.viewer import ViewerSettings

REDACTED = "********"


@dataclass(frozen=True)
class LabConfig:
    """The whole lab configuration: one section per stack, plus where it came from."""

    core: CoreSettings
    ldap: LdapSettings
    jdbc: JdbcSettings
    scim: ScimSettings
    viewer: ViewerSettings
    aws: AwsSettings
    radius: RadiusSettings
    headerapp: HeaderappSettings
    mcp: McpSettings
    glpi: GlpiSettings
    env_file: Path
    raw: Mapping[str, str]

    @classmethod
    def from_env(cls, path: Path) -> LabConfig:
        """Read and validate `path`; raise ConfigError listing every problem."""
        values = read_env_file(path)
        return cls.from_mapping(values, env_file=path)

    @classmethod
    def from_mapping(cls, values: Mapping[str, str], env_file: Path = Path(".env")) -> LabConfig:
        problems: list[Problem] = []
        built: dict[str, Any] = {}
        for name, section in SECTION_TYPES.items():
            data = {key: values[key] for key in section.env_keys() if key in values}
            try:
                built[name] = section.model_validate(data)
            except ValidationError as exc:
                problems.extend(_problems(section, data, exc))
        if problems:
            raise ConfigError(*problems)
        return cls(env_file=env_file, raw=dict(values), **built)

    def section_items(self) -> list[tuple[str, Section]]:
        return [(name, getattr(self, name)) for name in SECTION_TYPES]

    def secrets(self) -> dict[str, str]:
        """Every secret value by `.env` key."""
        out: dict[str, str] = {}
        for _, section in self.section_items():
            for key in section.secret_keys():
                out[key] = getattr(section, section.env_keys()[key])
        return out

    def env_values(self, *, redact: bool = False) -> dict[str, str]:
        """Resolved `.env` keys (derived values filled in), optionally with secrets redacted."""
        out: dict[str, str] = {}
        for _, section in self.section_items():
            secret = section.secret_keys()
            for key, attr in section.env_keys().items():
                value = getattr(section, attr)
                out[key] = REDACTED if (redact and key in secret and value) else str(value)
        out["LDAP_BASE_DN"] = self.ldap.base_dn
        return out


SECTION_TYPES: dict[str, type[Section]] = {
    "core": CoreSettings,
    "ldap": LdapSettings,
    "jdbc": JdbcSettings,
    "scim": ScimSettings,
    "viewer": ViewerSettings,
    "aws": AwsSettings,
    "radius": RadiusSettings,
    "headerapp": HeaderappSettings,
    "mcp": McpSettings,
    "glpi": GlpiSettings,
}


def read_env_file(path: Path) -> dict[str, str]:
    """Read `.env` strictly: it must exist and be readable."""
    try:
        exists = path.exists()
    except OSError as exc:  # e.g. a parent folder the user cannot enter
        raise ConfigError(
            Problem(f"{path} cannot be reached: {exc.strerror}", f"give your user access to {path.parent}")
        ) from None
    if not exists:
        raise ConfigError(Problem(f"{path} does not exist", "run `lab init` to create it"))
    if not os.access(path, os.R_OK):
        raise ConfigError(Problem(f"{path} is not readable", f"fix its permissions, e.g. `chmod 600 {path}`"))
    try:
        text = path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "it is not UTF-8 text"
        raise ConfigError(
            Problem(f"{path} cannot be read: {reason}", "fix it, or recreate it with `lab init --force`")
        ) from None
    cut = _cut_at_hash(text)
    if cut:
        raise ConfigError(*cut)
    raw = dotenv_values(stream=io.StringIO(text), interpolate=False)
    return {k: (v if v is not None else "") for k, v in raw.items()}


_UNQUOTED = re.compile(r"^\s*(?:export\s+)?(?P<key>[A-Za-z_][A-Za-z0-9_]*)\s*=\s*(?P<value>[^'\"\s].*?)\s+#")


def _cut_at_hash(text: str) -> list[Problem]:
    """Unquoted values holding ` #`: dotenv reads the rest as a comment and drops it silently."""
    out = []
    for number, line in enumerate(text.splitlines(), 1):
        m = _UNQUOTED.match(line)
        if m:
            key = m.group("key")
            out.append(
                Problem(
                    f"{key} (line {number}) holds an unquoted ' #': everything from the '#' on is read as a comment",
                    f"put the value in single quotes, e.g. {key}='...  # ...', or remove the comment",
                )
            )
    return out


def _problems(section: type[Section], data: Mapping[str, str], exc: ValidationError) -> list[Problem]:
    keys = {name: (f.alias or name) for name, f in section.model_fields.items()}
    names = {alias: name for name, alias in keys.items()}
    out = []
    for err in exc.errors():
        loc = [str(p) for p in err["loc"]]
        field = names.get(loc[0], loc[0]) if loc else ""  # errors are located by alias (the .env key)
        key = keys.get(field, field)
        message = err["msg"].removeprefix("Value error, ")
        if not key:  # model-level validator: the message names the keys itself
            out.append(Problem(message.split("; ")[0], "; ".join(message.split("; ")[1:])))
            continue
        info = section.model_fields.get(field)
        given = data.get(key)
        shown = "(empty)" if not given else (REDACTED if key in section.secret_keys() else repr(given))
        if key in section.secret_keys() and given is None:
            hint = "run `lab init --add-missing` to generate it (keeps every other value)"
            out.append(Problem(f"{key} is missing", hint))
        elif key in section.secret_keys() and not given:
            out.append(Problem(f"{key} is empty", "run `lab init --force` to generate it, or set it"))
        elif err["type"] == "missing":
            secret_key = key in section.secret_keys()
            hint = "run `lab init --add-missing` to generate it" if secret_key else f"set {key} in .env"
            out.append(Problem(f"{key} is missing", hint))
        elif "; " in message:
            what, hint = message.split("; ", 1)
            out.append(Problem(f"{key}={shown} {what}", hint))
        else:
            hint = (info.description if info and info.description else "") or _hint_for(err["type"], key, info)
            out.append(Problem(f"{key}={shown} is invalid: {message}", hint))
    return out


def _hint_for(kind: str, key: str, info: Any = None) -> str:
    if kind == "string_too_short" and key.endswith(("PASSWORD", "SECRET", "TOKEN")):
        return f"set a longer {key}, or delete the line and run `lab init --force` to generate one"
    if kind.startswith(("int_", "greater_than", "less_than")):
        low, high = _bounds(info)
        if low is not None and high is not None:
            return f"set {key} to a whole number from {low} to {high}"
        if low is not None:
            return f"set {key} to a whole number of at least {low}"
        return f"set {key} to a whole number"
    return f"fix {key} in .env"


def _bounds(info: Any) -> tuple[int | None, int | None]:
    """The (lowest, highest) whole number a field allows, from its pydantic constraints."""
    low = high = None
    for m in getattr(info, "metadata", None) or []:
        if getattr(m, "ge", None) is not None:
            low = int(m.ge)
        if getattr(m, "gt", None) is not None:
            low = int(m.gt) + 1
        if getattr(m, "le", None) is not None:
            high = int(m.le)
        if getattr(m, "lt", None) is not None:
            high = int(m.lt) - 1
    return low, high
