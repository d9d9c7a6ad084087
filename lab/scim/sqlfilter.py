"""SCIM filters the database can answer, as parameterised SQL (RFC 7644 §3.4.2.2).

Only a small, fixed subset is translated; every other filter returns None and is evaluated in
Python by `lab.scim.filters` over the "get all users" result (every user, active or not):

    userName eq "v"      USERNAME = ?              (case-insensitive: RFC 7643 §4.1.1)
    userName sw "v"      USERNAME LIKE ? ESCAPE '!'  (the value's `%`, `_`, `!` escaped)
    id eq "v"            USER_ID = ?
    active eq true|false IS_ACTIVE = ?
    A and B              (A AND B), for A and B in this list

Column names come from the fixed table below, never from the request; every value is bound by
the driver. The statement is built around the operation map's `find_users` lookup (a SELECT,
used as a derived table `L`), so it searches every user the lookup returns: active and inactive.

SQL may match more than SCIM does (MariaDB's `utf8mb4_unicode_ci` also folds accents and trailing
spaces; a database whose USER_ID collation is case-insensitive folds case, though `id` is
caseExact, RFC 7643 §3.1 — the lab's own USER_ID is `utf8mb4_bin`, a foreign database's may not be):
`SqlFilter.exact` is False whenever a string condition is present, and the caller then checks
every candidate row with the Python evaluator before counting and paging.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from lab.scim.filters import Compare, Logical, Node

Dialect = Literal["mariadb", "postgresql"]
CORE_URN = "urn:ietf:params:scim:schemas:core:2.0:user:"

#: SCIM attribute (lower case) -> (column, kind). The only columns a filter can reach.
COLUMNS: dict[str, tuple[str, str]] = {
    "username": ("USERNAME", "ci"),
    "id": ("USER_ID", "exact"),
    "active": ("IS_ACTIVE", "bool"),
}
#: The derived table's alias in generated statements.
ALIAS = "L"
_LIKE_ESCAPE = "!"


@dataclass(frozen=True)
class SqlFilter:
    """A WHERE condition with JDBC `?` placeholders and its values, in placeholder order.

    `exact` is True when the database's answer is the SCIM answer (no string comparison), so
    counting and paging may run in SQL.
    """

    where: str
    params: tuple[Any, ...]
    exact: bool


def translate(node: Node, dialect: Dialect = "mariadb") -> SqlFilter | None:
    """The SQL form of `node`, or None when the filter is outside the subset above."""
    if isinstance(node, Logical):
        if node.op != "and":
            return None
        left, right = translate(node.left, dialect), translate(node.right, dialect)
        if left is None or right is None:
            return None
        return SqlFilter(f"({left.where} AND {right.where})", left.params + right.params, left.exact and right.exact)
    if not isinstance(node, Compare):
        return None
    path = node.path.lower()
    if path.startswith(CORE_URN):
        path = path[len(CORE_URN) :]
    found = COLUMNS.get(path)
    if found is None:
        return None
    column, kind = found
    col = f"{ALIAS}.{column}"
    value = node.value
    if kind == "bool":
        if node.op != "eq" or not isinstance(value, bool):
            return None
        return SqlFilter(f"{col} = ?", (value,), True)
    if not isinstance(value, str):
        return None
    if kind == "ci" and dialect == "postgresql":
        col, hole = f"LOWER({col})", "LOWER(?)"
    else:
        hole = "?"
    if node.op == "eq":
        return SqlFilter(f"{col} = {hole}", (value,), False)
    if node.op == "sw" and kind == "ci":
        return SqlFilter(f"{col} LIKE {hole} ESCAPE '{_LIKE_ESCAPE}'", (like_prefix(value),), False)
    return None


def like_prefix(value: str) -> str:
    """A LIKE pattern matching strings that start with `value` literally."""
    out = []
    for ch in value:
        if ch in ("%", "_", _LIKE_ESCAPE):
            out.append(_LIKE_ESCAPE)
        out.append(ch)
    return "".join(out) + "%"


def page_statement(
    lookup_sql: str, sf: SqlFilter, id_column: str, limit: int | None, offset: int
) -> tuple[str, list[Any]]:
    """`SELECT * FROM (lookup) L WHERE ... ORDER BY id [LIMIT ? OFFSET ?]` and its values.

    `lookup_sql` is the validated `find_users` statement (no placeholders). `id_column` is a
    column name from the operation map (validated as a bare identifier).
    """
    text = f"SELECT * FROM ({lookup_sql}) {ALIAS} WHERE {sf.where} ORDER BY {ALIAS}.{id_column}"
    params: list[Any] = list(sf.params)
    if limit is not None:
        text += " LIMIT ? OFFSET ?"
        params += [int(limit), int(offset)]
    return text, params


def count_statement(lookup_sql: str, sf: SqlFilter) -> tuple[str, list[Any]]:
    """`SELECT COUNT(*) AS N FROM (lookup) L WHERE ...` and its values."""
    return f"SELECT COUNT(*) AS N FROM ({lookup_sql}) {ALIAS} WHERE {sf.where}", list(sf.params)


def in_statement(lookup_sql: str, id_column: str, count: int) -> str:
    """`SELECT * FROM (lookup) L WHERE L.<id> IN (?, ...) ORDER BY L.<id>, L.ENT_ID` for `count` ids."""
    holes = ", ".join("?" * count)
    where = f"{ALIAS}.{id_column} IN ({holes})"
    return f"SELECT * FROM ({lookup_sql}) {ALIAS} WHERE {where} ORDER BY {ALIAS}.{id_column}, {ALIAS}.ENT_ID"


def attribute_names() -> Sequence[str]:
    """The attributes a filter may use to be answered by the database (for the docs and tests)."""
    return ("userName", "id", "active")
