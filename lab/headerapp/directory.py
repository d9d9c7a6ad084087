"""The lab directory's people as OAG identity headers, and nginx quoting for the rendered maps."""

from __future__ import annotations

import html

from lab.company import Company, Person
from lab.errors import ConfigError, Problem, RenderError, UsageError


def attribute(person: Person, attr: str, mail_domain: str) -> str:
    """The value OAG would send for directory attribute `attr` (see settings.headerapp.ATTRIBUTES).

    `login` is the Okta username / LDAP uid (`luke.skywalker@galaxy.local`); `uid` its local part;
    `groups` the person's groups, comma-separated.
    """
    if attr == "login":
        return person.login(mail_domain)
    if attr == "groups":
        return ",".join(person.groups)
    return str(getattr(person, attr) or "")


def nginx_str(value: str) -> str:
    """`value` as a double-quoted nginx string; `\\` and `"` escaped.

    nginx has no escape for `$` (it starts a variable) nor for control characters: RenderError.
    """
    if "$" in value or any(ord(c) < 32 for c in value):
        raise RenderError(
            Problem(
                f"cannot put {value!r} in the oag-sim configuration ('$' or a control character)",
                "change that value in the company file (LAB_COMPANY)",
            )  # fmt: skip
        )
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def find_person(company: Company, user: str, mail_domain: str) -> Person:
    """The person whose uid (`luke.skywalker`) or login (`luke.skywalker@galaxy.local`) is `user`;
    UsageError naming a few valid ones otherwise."""
    uid = user.removesuffix(f"@{mail_domain}")
    if company.has_person(uid):
        return company.person(uid)
    some = ", ".join(p.uid for p in company.people[:5])
    raise UsageError(Problem(f"no user {user!r} in the lab directory", f"use a uid such as {some}"))


def known_uid(uid: str, company: Company) -> str:
    """`uid` if the lab directory has that person (HEADERAPP_DEFAULT_USER), else ConfigError."""
    if company.has_person(uid):
        return uid
    some = ", ".join(p.uid for p in company.people[:5])
    raise ConfigError(
        Problem(f"HEADERAPP_DEFAULT_USER={uid!r} is not in the lab directory", f"use a uid such as {some}")
    )


def login_page(company: Company, default_user: str) -> str:
    """oag-sim's /lab-login form (one line of HTML, every name escaped): pick a lab user by uid."""
    options = "".join(
        f"<option value='{html.escape(p.uid, quote=True)}'{' selected' if p.uid == default_user else ''}>"
        f"{html.escape(p.cn)} ({html.escape(p.uid)})</option>"
        for p in company.people
    )
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>oag-sim: sign in</title></head>"
        "<body style='font-family:sans-serif;margin:2em'><h1>oag-sim: sign in as a lab user</h1>"
        "<p>Okta would sign you in here; the lab lets you pick who you are.</p>"
        f"<form method='get' action='/lab-login'><select name='user'>{options}</select> "
        "<button type='submit'>Sign in</button></form></body></html>"
    )
