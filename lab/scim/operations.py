"""The connector operation map: one definition for the SCIM server and `lab jdbc guide`.

Each of the ten Okta Generic Database Connector operations is either a stored-procedure call
("Execute Stored Procedure") or an SQL statement ("SQL Statement"), with its parameters given as
database field names bound, in order, to JDBC `?` placeholders. Both forms are kept for every
operation; `kind` says which one the server executes.

Public API (stable; `lab jdbc guide` imports it):

- `load_operations(path=None, kind=None) -> OperationMap`
- `OperationMap[name] -> Operation` with `.kind`, `.statement`, `.params`, `.procedure`, `.sql`
- `parse_operations(data, base=None) -> OperationMap` (used for the `X-OKTA-ONPREM-DATA` header)
- `to_pyformat(statement) -> str` (JDBC `?` to the DB-API `%s` style PyMySQL uses)
- `SERVER_OPERATION_NAMES`: `get_all_users` and `set_external_id`, operations only this server
  runs (in the map like the ten, not iterated with them, not printed by the guide)
- `OperationMap.lookup` / `.entitlement_lookup -> Lookup | None`: the server's `find_users` and
  `find_user_entitlements` SELECTs (not connector operations, not printed by the guide): SCIM
  filters narrow the first in SQL (lab.scim.sqlfilter); a page's entitlements come from the second
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any, Literal, cast

import yaml

from lab.errors import ConfigError, Problem

Kind = Literal["procedure", "sql"]
KINDS: tuple[Kind, ...] = ("procedure", "sql")

#: The connector's operations, in the order the Okta console lists them.
OPERATION_NAMES: tuple[str, ...] = (
    "get_users",
    "get_user_by_id",
    "get_all_entitlements",
    "get_user_entitlements",
    "create_user",
    "update_user",
    "activate_user",
    "deactivate_user",
    "add_entitlement",
    "remove_entitlement",
)

#: Operations only this server runs, not among the connector's ten (and not in `lab jdbc guide`):
#: every user, active or not, which filters search (RFC 7644 §3.4.2), and storing `externalId`.
SERVER_OPERATION_NAMES: tuple[str, ...] = ("get_all_users", "set_external_id")
ALL_OPERATION_NAMES = OPERATION_NAMES + SERVER_OPERATION_NAMES

#: Lookups the server adds to the operations (plain SELECTs with no console equivalent).
LOOKUP_NAMES: tuple[str, ...] = ("find_users", "find_user_entitlements")
#: The operations each lookup reads like: overriding one of them and not the lookup turns it off.
LOOKUP_OF: dict[str, tuple[str, ...]] = {
    "find_users": ("get_users", "get_all_users"),
    "find_user_entitlements": ("get_user_entitlements",),
}

#: The 25 columns of the lab's USERS table, in table order.
USER_COLUMNS: tuple[str, ...] = (
    "USER_ID",
    "USERNAME",
    "FIRSTNAME",
    "LASTNAME",
    "MIDDLENAME",
    "EMAIL",
    "DISPLAYNAME",
    "NICKNAME",
    "MOBILEPHONE",
    "STREETADDRESS",
    "CITY",
    "STATE",
    "ZIPCODE",
    "COUNTRYCODE",
    "TIMEZONE",
    "ORGANIZATION",
    "DEPARTMENT",
    "MANAGERID",
    "MANAGER",
    "TITLE",
    "EMPLOYEENUMBER",
    "HIREDATE",
    "TERMINATIONDATE",
    "PASSWORD_HASH",
    "IS_ACTIVE",
)

#: Every database field an operation parameter may name (EXTERNALID: the lab's added column).
KNOWN_FIELDS: frozenset[str] = frozenset(USER_COLUMNS) | {"ENT_ID", "EXTERNALID"}


@dataclass(frozen=True)
class Statement:
    """One form of an operation: the statement text and its parameters in placeholder order."""

    kind: Kind
    text: str
    params: tuple[str, ...]


@dataclass(frozen=True)
class Operation:
    """One connector operation with both its forms; `kind` selects the one in use."""

    name: str
    label: str
    direction: str
    kind: Kind
    procedure: Statement
    sql: Statement
    id_column: str | None = None
    display_column: str | None = None

    @property
    def active(self) -> Statement:
        """The form the server executes."""
        return self.form(self.kind)

    @property
    def statement(self) -> str:
        return self.active.text

    @property
    def params(self) -> tuple[str, ...]:
        return self.active.params

    def form(self, kind: Kind) -> Statement:
        return self.procedure if kind == "procedure" else self.sql

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "label": self.label,
            "direction": self.direction,
            "kind": self.kind,
            "procedure": self.procedure.text,
            "params": list(self.procedure.params),
            "sql": self.sql.text,
        }
        if self.sql.params != self.procedure.params:
            out["sql_params"] = list(self.sql.params)
        if self.id_column:
            out["id_column"] = self.id_column
        if self.display_column:
            out["display_column"] = self.display_column
        return out


@dataclass(frozen=True)
class Lookup:
    """`find_users`: a SELECT of user rows (every user, active or not) that SCIM filters narrow.

    Not a connector operation: the server wraps it as `SELECT * FROM (<sql>) L WHERE ...` for
    the filters the database can answer (lab.scim.sqlfilter). No placeholders; `id_column` orders
    the pages.
    """

    name: str
    label: str
    sql: str
    id_column: str = "USER_ID"


@dataclass(frozen=True)
class OperationMap:
    """All operations by name (iterating gives the connector's ten, in console order), plus the
    optional lookups (`find_users`, `find_user_entitlements`)."""

    operations: Mapping[str, Operation]
    source: str = "default"
    lookups: Mapping[str, Lookup] = field(default_factory=dict)

    @property
    def lookup(self) -> Lookup | None:
        """`find_users`, if configured."""
        return self.lookups.get("find_users")

    @property
    def entitlement_lookup(self) -> Lookup | None:
        """`find_user_entitlements`, if configured."""
        return self.lookups.get("find_user_entitlements")

    def __getitem__(self, name: str) -> Operation:
        return self.operations[name]

    def __iter__(self) -> Iterator[Operation]:
        return (self.operations[name] for name in OPERATION_NAMES)

    def __len__(self) -> int:
        return len(self.operations)

    def with_kind(self, kind: Kind) -> OperationMap:
        """Every operation switched to `kind`."""
        ops = {name: replace(op, kind=kind) for name, op in self.operations.items()}
        return OperationMap(ops, self.source, self.lookups)

    def for_engine(self, engine: str) -> OperationMap:
        """The map as the console expects it for `engine`: on PostgreSQL a procedure form that
        returns rows (`CALL GET_USER_BY_ID(?)`) becomes `SELECT * FROM GET_USER_BY_ID(?)`, since
        those routines are functions returning a table there. MariaDB: unchanged."""
        if engine != "postgresql":
            return self
        ops = {name: replace(op, procedure=postgresql_call(op.procedure)) for name, op in self.operations.items()}
        return OperationMap(ops, self.source, self.lookups)

    def to_dict(self) -> dict[str, Any]:
        """`operations`: the connector's ten (what Okta's console takes); `server_operations`: the
        server's own (SERVER_OPERATION_NAMES). `parse_operations` reads both keys back."""
        extra = {n: self.operations[n].to_dict() for n in SERVER_OPERATION_NAMES if n in self.operations}
        return {"operations": {op.name: op.to_dict() for op in self}, "server_operations": extra}


_CALL = re.compile(r"^\s*CALL\s+([A-Za-z_][A-Za-z0-9_]*)\s*(\(.*\))\s*;?\s*$", re.IGNORECASE | re.DOTALL)


def postgresql_call(form: Statement) -> Statement:
    """`CALL NAME(...)` of a routine that returns rows -> `SELECT * FROM NAME(...)` (PostgreSQL)."""
    from lab.jdbc.sql import RESULT_ROUTINES

    match = _CALL.match(form.text)
    if not match or match.group(1).upper() not in RESULT_ROUTINES:
        return form
    return replace(form, text=f"SELECT * FROM {match.group(1)}{match.group(2)}")


def default_operations_path() -> Path:
    """The packaged definition file (`lab/data/operations.yaml`)."""
    return Path(str(resources.files("lab") / "data" / "operations.yaml"))


def load_operations(path: Path | None = None, kind: Kind | None = None) -> OperationMap:
    """Load the operation map from `path` (default: the packaged file).

    A user file may define only some operations; the rest come from the packaged defaults.
    `kind` switches the operations that do not set their own `kind`. Raises ConfigError.
    """
    default_path = default_operations_path()
    base = _parse(_read_yaml(default_path), None, str(default_path), kind)
    if path is None or path.resolve() == default_path.resolve():
        return base
    return _parse(_read_yaml(path), base, str(path), kind)


def parse_operations(data: Mapping[str, Any], base: OperationMap | None = None, source: str = "inline") -> OperationMap:
    """Validate an operation map given as data (e.g. from a request header).

    `data` is `{"operations": {name: {...}}}` or directly `{name: {...}}`; each entry may give
    `kind` plus `statement`/`params` (the active form only) or the full `procedure`/`sql` forms.
    Missing operations come from `base`. Raises ConfigError listing every problem.
    """
    return _parse(data, base, source, None)


def to_pyformat(statement: str) -> str:
    """Turn JDBC `?` placeholders into `%s` for PyMySQL, escaping literal `%` signs.

    Placeholders inside quoted strings are left alone. Values are always bound by the driver,
    never spliced into the text.
    """
    out: list[str] = []
    quote = ""
    for ch in statement:
        if quote:
            out.append("%%" if ch == "%" else ch)
            if ch == quote:
                quote = ""
        elif ch in "'\"`":
            quote = ch
            out.append(ch)
        elif ch == "?":
            out.append("%s")
        else:
            out.append("%%" if ch == "%" else ch)
    return "".join(out)


def count_placeholders(statement: str) -> int:
    """Number of `?` placeholders outside quoted strings."""
    return _unquoted(statement).count("?")


def _unquoted(statement: str) -> str:
    """The statement with every quoted string removed."""
    out: list[str] = []
    quote = ""
    for ch in statement:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"`":
            quote = ch
        else:
            out.append(ch)
    return "".join(out)


def _read_yaml(path: Path) -> Mapping[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            Problem(f"operation file {path} does not exist", "fix SCIM_OPERATIONS_FILE in .env")
        ) from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        reason = str(exc).splitlines()[0]
        raise ConfigError(Problem(f"operation file {path} cannot be read: {reason}", "fix the YAML syntax")) from None
    if not isinstance(data, Mapping):
        raise ConfigError(Problem(f"operation file {path} is not a mapping", "see docs/scim.md"))
    return data


def _parse(data: Mapping[str, Any], base: OperationMap | None, source: str, kind: Kind | None) -> OperationMap:
    entries = data.get("operations", data)
    problems: list[Problem] = []
    if not isinstance(entries, Mapping):
        raise ConfigError(Problem(f"{source}: `operations` is not a mapping", "see docs/scim.md"))
    extra = data.get("server_operations") if "operations" in data else None
    if isinstance(extra, Mapping):
        entries = {**entries, **extra}
    ops: dict[str, Operation] = dict(base.operations) if base else {}
    lookups: dict[str, Lookup] = dict(base.lookups) if base else {}
    for name, operations in LOOKUP_OF.items():
        if any(op in entries for op in operations) and name not in entries:
            lookups.pop(name, None)  # the inherited lookup may not read what the new operation reads
    for name, entry in entries.items():
        if name in LOOKUP_NAMES:
            found, errs = _parse_lookup(str(name), entry, lookups.get(name), source)
            problems.extend(errs)
            if found is None:
                lookups.pop(name, None)
            else:
                lookups[name] = found
            continue
        if name not in ALL_OPERATION_NAMES:
            hint = f"use {', '.join(ALL_OPERATION_NAMES + LOOKUP_NAMES)}"
            problems.append(Problem(f"{source}: unknown operation {name!r}", hint))
            continue
        if not isinstance(entry, Mapping):
            problems.append(Problem(f"{source}: operation {name} is not a mapping"))
            continue
        op, errs = _parse_one(str(name), entry, ops.get(name), source, kind)
        problems.extend(errs)
        if op is not None:
            ops[name] = op
    missing = [n for n in ALL_OPERATION_NAMES if n not in ops]
    if missing and not problems:
        problems.append(Problem(f"{source}: operations missing: {', '.join(missing)}"))
    if problems:
        raise ConfigError(*problems)
    return OperationMap(ops, source, lookups)


def _parse_lookup(name: str, entry: Any, base: Lookup | None, source: str) -> tuple[Lookup | None, list[Problem]]:
    """`find_users: {sql: SELECT ..., id_column: USER_ID}`; `find_users: {enabled: false}` turns it off."""
    where = f"{source}: {name}"
    if not isinstance(entry, Mapping):
        return base, [Problem(f"{where} is not a mapping")]
    if entry.get("enabled", True) is False:
        return None, []
    text = " ".join(str(entry.get("sql", base.sql if base else "") or "").split()).rstrip(";")
    id_column = str(entry.get("id_column", base.id_column if base else "USER_ID")).strip().upper()
    problems: list[Problem] = []
    if not text.upper().startswith("SELECT "):
        problems.append(Problem(f"{where}: the lookup must be one SELECT statement", "see docs/scim.md"))
    if count_placeholders(text):
        problems.append(Problem(f"{where}: the lookup takes no `?` parameters", "the server adds the conditions"))
    if ";" in _unquoted(text):
        problems.append(Problem(f"{where}: only one statement is allowed", "remove the `;`"))
    if id_column not in USER_COLUMNS:
        problems.append(Problem(f"{where}: id_column {id_column!r} is not a USERS column", "use USER_ID"))
    if problems:
        return base, problems
    label = str(entry.get("label", base.label if base else name.replace("_", " ").title()))
    return Lookup(name, label, text, id_column), []


def _parse_one(
    name: str,
    entry: Mapping[str, Any],
    base: Operation | None,
    source: str,
    default_kind: Kind | None,
) -> tuple[Operation | None, list[Problem]]:
    where = f"{source}: {name}"
    problems: list[Problem] = []
    fallback_kind: Kind = base.kind if base else "procedure"
    kind_value = entry.get("kind", default_kind or fallback_kind)
    if kind_value not in KINDS:
        return None, [Problem(f"{where}: kind {kind_value!r} is invalid", "use procedure or sql")]
    kind = cast(Kind, kind_value)
    forms: dict[Kind, Statement | None] = {
        "procedure": base.procedure if base else None,
        "sql": base.sql if base else None,
    }
    shared = entry.get("params")
    for form in KINDS:
        if "statement" in entry:  # the active form only: {kind, statement, params}
            if form != kind:
                continue
            text, params = entry["statement"], shared
        else:
            text = entry.get(form)
            params = entry.get("sql_params", shared) if form == "sql" else shared
        if text is None and params is None:
            continue
        old = forms[form]
        text = text if text is not None else (old.text if old else None)
        params = params if params is not None else (list(old.params) if old else [])
        stmt, errs = _statement(where, form, text, params)
        problems.extend(errs)
        forms[form] = stmt
    proc, sql = forms["procedure"], forms["sql"]
    if proc is None or sql is None:
        lacking = "procedure" if proc is None else "sql"
        problems.append(Problem(f"{where}: the {lacking} form is missing", "give both forms"))
    if problems or proc is None or sql is None:
        return None, problems
    op = Operation(
        name=name,
        label=str(entry.get("label", base.label if base else name.replace("_", " ").title())),
        direction=str(entry.get("direction", base.direction if base else "provisioning")),
        kind=kind,
        procedure=proc,
        sql=sql,
        id_column=entry.get("id_column", base.id_column if base else None),
        display_column=entry.get("display_column", base.display_column if base else None),
    )
    return op, []


def _statement(where: str, form: Kind, text: Any, params: Any) -> tuple[Statement, list[Problem]]:
    problems: list[Problem] = []
    text = " ".join(str(text or "").split())
    if not isinstance(params, list | tuple) or not all(isinstance(p, str) for p in params):
        problems.append(Problem(f"{where}: {form} params must be a list of field names"))
        params = []
    fields = tuple(p.strip().upper() for p in params)
    unknown = [p for p in fields if p not in KNOWN_FIELDS]
    if unknown:
        problems.append(
            Problem(f"{where}: unknown database field(s) {', '.join(unknown)}", "use USERS columns or ENT_ID")
        )
    if not text:
        problems.append(Problem(f"{where}: the {form} statement is empty"))
    is_call = text.upper().startswith("CALL ")
    if text and form == "procedure" and not is_call:
        problems.append(Problem(f"{where}: a stored-procedure statement must start with CALL"))
    if text and form == "sql" and is_call:
        problems.append(Problem(f"{where}: CALL needs the stored-procedure form", "put it under `procedure:`"))
    if ";" in _unquoted(text).rstrip().rstrip(";"):
        problems.append(Problem(f"{where}: only one statement is allowed", "remove the `;`"))
    holes = count_placeholders(text)
    if text and holes != len(fields):
        problems.append(
            Problem(
                f"{where}: the {form} statement has {holes} `?` but {len(fields)} params",
                "list one database field per `?`, in order",
            )
        )
    return Statement(form, text.rstrip(";"), fields), problems
