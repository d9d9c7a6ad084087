"""Jinja2 filters available to every template."""

from __future__ import annotations

import json
import re
import shlex

import jinja2

from lab.errors import Problem, RenderError

_ENV_PLAIN = re.compile(r"[A-Za-z0-9_./:@%+,=-]*")
_ENV_NEVER = ("'", "\\", "\n", "\r", "\0")


def _yaml_str(value: object) -> str:
    """Quote a value safely for YAML (JSON strings are valid YAML scalars)."""
    return json.dumps(str(value))


def env_line(key: str, value: object) -> str:
    """`KEY=value` for an env file read alike by compose (`env_file:`, v1 and v2) and systemd
    (`EnvironmentFile=`): plain when the value needs no quoting, else in single quotes (literal
    for all three). A value no quoting carries the same through all three is a RenderError."""
    text = "" if value is None else str(value).lower() if isinstance(value, bool) else str(value)
    if _ENV_PLAIN.fullmatch(text):
        return f"{key}={text}"
    if any(bad in text for bad in _ENV_NEVER):
        raise RenderError(
            Problem(
                f"{key}: the value holds a quote ('), backslash or line break, which env files cannot carry",
                f"change {key} in .env",
            )
        )
    return f"{key}='{text}'"


def register(env: jinja2.Environment) -> None:
    env.filters["yaml_str"] = _yaml_str
    env.filters["env_line"] = env_line
    env.filters["tojson"] = lambda v: json.dumps(v, sort_keys=True)
    env.filters["sh"] = lambda v: shlex.quote(str(v))  # one shell word, quoted when needed
    from lab.ldap.ldif import FILTERS as LDIF_FILTERS  # ldif, dn_value, postal, ssha, user_dn, …

    env.filters.update(LDIF_FILTERS)
    from lab.headerapp.directory import attribute, known_uid, login_page, nginx_str

    env.filters["nginx_str"] = nginx_str
    env.filters["oag_attribute"] = attribute
    env.filters["known_uid"] = known_uid
    env.filters["oag_login_page"] = login_page
