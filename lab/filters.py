"""Jinja2 filters available to every template."""

from __future__ import annotations

import json

import jinja2


def _yaml_str(value: object) -> str:
    """Quote a value safely for YAML (JSON strings are valid YAML scalars)."""
    return json.dumps(str(value))


def register(env: jinja2.Environment) -> None:
    env.filters["yaml_str"] = _yaml_str
    env.filters["tojson"] = lambda v: json.dumps(v, sort_keys=True)
    from lab.ldap.ldif import FILTERS as LDIF_FILTERS  # ldif, dn_value, postal, ssha, user_dn, …

    env.filters.update(LDIF_FILTERS)
    from lab.headerapp.directory import attribute, known_uid, login_page, nginx_str

    env.filters["nginx_str"] = nginx_str
    env.filters["oag_attribute"] = attribute
    env.filters["known_uid"] = known_uid
    env.filters["oag_login_page"] = login_page
