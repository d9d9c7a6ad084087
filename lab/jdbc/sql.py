"""The lab's SQL as Python sees it: render the templates, split scripts, name the errors.

The same `templates/sql/*.sql.j2` feed the `db` image, the `mariadb` Ansible role and these helpers
(used by tests and benchmarks to load any company, e.g. 10,000 synthetic users).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from lab.company import Company

#: The database engines of the JDBC lab (JDBC_DATABASE).
ENGINES = ("mariadb", "postgresql")

#: Routines that return rows. On PostgreSQL they are functions returning a table, called as
#: `SELECT * FROM NAME(?)`; every other routine is a procedure (`CALL NAME(?)`) on both engines.
RESULT_ROUTINES = ("GET_ACTIVEUSERS", "GET_ALL_ENTITLEMENTS", "GET_USER_BY_ID", "GET_USER_ENTITLEMENT", "GET_ALL_USERS")

#: Files in the order they are applied; `seed` only into an empty database.
SQL_FILES = ("schema", "views", "procedures", "seed")

#: The 25 USERS columns, in table order.
USER_COLUMNS = (
    "USER_ID", "USERNAME", "FIRSTNAME", "LASTNAME", "MIDDLENAME", "EMAIL", "DISPLAYNAME",
    "NICKNAME", "MOBILEPHONE", "STREETADDRESS", "CITY", "STATE", "ZIPCODE", "COUNTRYCODE",
    "TIMEZONE", "ORGANIZATION", "DEPARTMENT", "MANAGERID", "MANAGER", "TITLE", "EMPLOYEENUMBER",
    "HIREDATE", "TERMINATIONDATE", "PASSWORD_HASH", "IS_ACTIVE",
)  # fmt: skip

#: The 24 parameters of CREATE_USER / UPDATE_USER (database field names), in call order.
USER_PARAMS = (
    "USER_ID", "USERNAME", "FIRSTNAME", "LASTNAME", "EMAIL", "MIDDLENAME", "DISPLAYNAME",
    "NICKNAME", "MOBILEPHONE", "STREETADDRESS", "CITY", "STATE", "ZIPCODE", "COUNTRYCODE",
    "TIMEZONE", "ORGANIZATION", "DEPARTMENT", "MANAGERID", "MANAGER", "TITLE", "EMPLOYEENUMBER",
    "HIREDATE", "TERMINATIONDATE", "PASSWORD_HASH",
)  # fmt: skip

PROCEDURES = (
    "GET_ACTIVEUSERS", "GET_ALL_ENTITLEMENTS", "GET_USER_BY_ID", "GET_USER_ENTITLEMENT",
    "CREATE_USER", "UPDATE_USER", "ACTIVATE_USER", "DEACTIVATE_USER",
    "ADD_ENTITLEMENT_TO_USER", "REMOVE_ENTITLEMENT_FROM_USER",
)  # fmt: skip

#: Procedures only the toolkit's SCIM server calls (not among the connector's ten): every user,
#: active or not, for filters (RFC 7644 §3.4.2), and storing `externalId` in EXTERNALID.
SERVER_PROCEDURES = ("GET_ALL_USERS", "SET_USER_EXTERNALID")

#: Columns the lab adds to the public lab's 25 (by the in-place upgrade in schema.sql).
EXTRA_USER_COLUMNS = ("EXTERNALID",)

VIEWS = (
    "V_USERENTITLEMENTS", "V_INACTIVE_USERENTITLEMENTS", "V_ACTIVE_USERS", "V_INACTIVE_USERS",
    "V_ENTITLEMENT_USAGE", "V_USER_HIERARCHY",
)  # fmt: skip

#: SQLSTATE of every error the procedures raise with SIGNAL (MySQL error number 1644) or, on
#: PostgreSQL, with RAISE ... USING ERRCODE.
SIGNAL_SQLSTATE = "45000"
SIGNAL_ERRNO = 1644


@dataclass(frozen=True)
class ProcedureError:
    """What a SIGNAL message means; `kind` is one of the ERROR_KINDS keys."""

    kind: str
    detail: str


#: Message prefix -> kind. Messages look like "unknown user: han.solo@galaxy.local".
ERROR_KINDS = {
    "unknown user: ": "unknown_user",
    "unknown entitlement: ": "unknown_entitlement",
    "duplicate user: ": "duplicate_user",
    "missing mandatory field: ": "missing_field",
}


def classify_error(message: str) -> ProcedureError | None:
    """Map a procedure's SIGNAL message to its kind, or None for any other database error."""
    for prefix, kind in ERROR_KINDS.items():
        if message.startswith(prefix):
            return ProcedureError(kind, message.removeprefix(prefix))
    return None


def call_syntax(engine: str, name: str, params: int, placeholder: str = "?") -> str:
    """How a routine is called on `engine`: `CALL NAME(?, ?)`, or on PostgreSQL for a routine that
    returns rows `SELECT * FROM NAME(?)` (a function returning a table)."""
    args = ", ".join([placeholder] * params)
    if engine == "postgresql" and name.upper() in RESULT_ROUTINES:
        return f"SELECT * FROM {name}({args})"
    return f"CALL {name}({args})"


def render_sql(company: Company, mail_domain: str, *, dialect: str = "mariadb") -> dict[str, str]:
    """Render the four SQL files for `company` (name -> text), as `lab render` would.

    `dialect` is "mariadb" (default), "mysql" (DROP+CREATE procedures) or "postgresql" (the
    templates under `sql/postgresql/`: functions and procedures, RAISE instead of SIGNAL).
    """
    from types import SimpleNamespace

    from lab.render import template_env

    env = template_env()
    cfg: Any = SimpleNamespace(ldap=SimpleNamespace(mail_domain=mail_domain))
    context = {"cfg": cfg, "company": company, "dialect": dialect}
    folder = "sql/postgresql" if dialect == "postgresql" else "sql"
    return {name: env.get_template(f"{folder}/{name}.sql.j2").render(**context) for name in SQL_FILES}


_DELIMITER = re.compile(r"^\s*DELIMITER\s+(\S+)\s*$", re.IGNORECASE)


def split_statements(script: str) -> Iterator[str]:
    """Split a `mariadb`-client script into statements, honouring `DELIMITER` lines.

    Statements end at the current delimiter at the end of a line (how the templates are written);
    `--` comment lines outside a statement are dropped.
    """
    delimiter = ";"
    buf: list[str] = []
    for line in script.splitlines():
        match = _DELIMITER.match(line)
        if match and not buf:
            delimiter = match.group(1)
            continue
        if not buf and (not line.strip() or line.lstrip().startswith("--")):
            continue
        stripped = line.rstrip()
        if stripped.endswith(delimiter):
            buf.append(stripped[: -len(delimiter)])
            statement = "\n".join(buf).strip()
            buf = []
            if statement:
                yield statement
        else:
            buf.append(line)
    rest = "\n".join(buf).strip()
    if rest:
        yield rest


def apply_script(cursor: Any, script: str) -> int:
    """Run every statement of `script` on a DB-API cursor; return how many ran."""
    count = 0
    for statement in split_statements(script):
        cursor.execute(statement)
        count += 1
    return count
