"""The fast paths of `GET /Users` (RFC 7644 §3.4.2): SQL lookups and snapshot paging.

`find_rows` answers a list request from the database when it can and returns None otherwise
(the caller then evaluates the filter in Python over "get all users"):

- no filter: the "get users" rows, sorted once per snapshot (`Database.sorted_users`), sliced;
- a filter `lab.scim.sqlfilter.translate` accepts, when the operation map has the `find_users`
  lookup: for `active eq` (and `and` of it) the count and the page run in SQL, one round trip;
  with a string condition the candidate rows come from SQL and are checked with the Python
  evaluator (the database's collation may match more than SCIM does), then counted and paged.

`entitlements_of` reads the entitlements of a page's users with one statement
(`find_user_entitlements`) instead of one "get user entitlements" call per user.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from lab.scim.filters import Node, matches
from lab.scim.mapping import row_to_user
from lab.scim.operations import Lookup, OperationMap
from lab.scim.sqlfilter import Dialect, count_statement, in_statement, page_statement, translate

Rows = list[dict[str, Any]]


class Finder(Protocol):
    """What `find_rows` needs of lab.scim.db.Database."""

    operations: OperationMap
    dialect: str

    def sorted_users(self, *, fresh: bool) -> Rows: ...

    def query(self, lookup: Lookup, items: Sequence[tuple[str, Sequence[Any]]]) -> list[Rows]: ...


def find_rows(db: Any, node: Node | None, start: int, count: int, location: str) -> tuple[int, Rows] | None:
    """(total matches, the rows of page `start`/`count`), or None when SQL cannot answer.

    `start` is 1-based (RFC 7644 §3.4.2.4); `count` 0 returns the total only.
    """
    finder: Finder = db
    if node is None:
        if not hasattr(finder, "sorted_users"):
            return None
        rows = finder.sorted_users(fresh=start <= 1)
        return len(rows), _slice(rows, start, count)
    lookup = getattr(getattr(finder, "operations", None), "lookup", None)
    if lookup is None or not hasattr(finder, "query"):
        return None
    dialect: Dialect = "postgresql" if getattr(finder, "dialect", "") == "postgresql" else "mariadb"
    sf = translate(node, dialect)
    if sf is None:
        return None
    if sf.exact:
        items = [count_statement(lookup.sql, sf)]
        if count > 0:
            items.append(page_statement(lookup.sql, sf, lookup.id_column, count, start - 1))
        results = finder.query(lookup, items)
        return int(_first_value(results[0][0])), (results[1] if count > 0 else [])
    (candidates,) = finder.query(lookup, [page_statement(lookup.sql, sf, lookup.id_column, None, 0)])
    matched = [r for r in candidates if matches(node, row_to_user(r, [], location))]
    return len(matched), _slice(matched, start, count)


def entitlements_of(db: Any, user_ids: list[str]) -> dict[str, Rows] | None:
    """Entitlement rows per user id (every id present), or None without the lookup."""
    lookup = getattr(getattr(db, "operations", None), "entitlement_lookup", None)
    if lookup is None or not hasattr(db, "query"):
        return None
    out: dict[str, Rows] = {uid: [] for uid in user_ids}
    if not user_ids:
        return out
    finder: Finder = db
    (rows,) = finder.query(lookup, [(in_statement(lookup.sql, lookup.id_column, len(user_ids)), user_ids)])
    exact = {uid: uid for uid in user_ids}
    folded = {uid.lower(): uid for uid in user_ids}
    for row in rows:
        key = str(row.get(lookup.id_column))
        owner = exact.get(key) or folded.get(key.lower())  # a _ci collation may fold case in IN
        if owner is not None:
            out[owner].append(row)
    return out


def _slice(rows: Rows, start: int, count: int) -> Rows:
    return rows[start - 1 : start - 1 + count] if count > 0 else []


def _first_value(row: Mapping[str, Any]) -> Any:
    return row.get("N", next(iter(row.values())))
