"""SCIM User and Entitlement operations (RFC 7644 §3.3-§3.6) over the connector operations.

Every change goes through the configured operations only: create/update user, activate,
deactivate, add/remove entitlement, and `set_external_id` (one of the server's own two). There is
no hard delete: DELETE deactivates (as Okta does). A filter searches every user, active or not
("get all users"); an unfiltered list is what "get users" returns (active users by default).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from lab.scim.errors import bad_request, conflict, not_found
from lab.scim.filters import Node, equality_on, matches
from lab.scim.lookup import entitlements_of, find_rows
from lab.scim.mapping import (
    canonical_user,
    derive_user_id,
    entitlement_resource,
    hash_password,
    row_to_user,
    user_to_columns,
)
from lab.scim.patch import apply_patch

_DATE_COLUMNS = ("HIREDATE", "TERMINATIONDATE")
_MAX_ID_ATTEMPTS = 20
_BATCH = 100


class Caller(Protocol):
    """Runs a connector operation by name (lab.scim.db.Database)."""

    def call(self, name: str, values: Mapping[str, Any]) -> list[dict[str, Any]]: ...

    def call_many(self, calls: Sequence[tuple[str, Mapping[str, Any]]]) -> list[list[dict[str, Any]]]: ...


@dataclass(frozen=True)
class Page:
    total: int
    start: int
    resources: list[dict[str, Any]]


class UserService:
    """One request's view of the database; `location` is the SCIM base URL for `meta`."""

    def __init__(self, db: Caller, location: str) -> None:
        self.db = db
        self.location = location

    # -- reads -------------------------------------------------------------------------------

    def row(self, user_id: str) -> dict[str, Any] | None:
        rows = self.db.call("get_user_by_id", {"USER_ID": user_id})
        return rows[0] if rows else None

    def entitlement_rows(self, user_id: str) -> list[dict[str, Any]]:
        return self.db.call("get_user_entitlements", {"USER_ID": user_id})

    def get(self, user_id: str) -> dict[str, Any]:
        """The user and its entitlements, read in one database round trip."""
        values = {"USER_ID": user_id}
        rows, ents = self.db.call_many([("get_user_by_id", values), ("get_user_entitlements", values)])
        if not rows:
            raise not_found(f"user {user_id!r} not found")
        return row_to_user(rows[0], ents, self.location)

    def search(self, node: Node | None, start: int, count: int) -> Page:
        """RFC 7644 §3.4.2: filter, then page (1-based `start`) through the matches.

        A filter is applied to every user, active or not: in SQL through the `find_users` lookup
        when the database can answer it (lab.scim.lookup), otherwise by the evaluator over
        `get_all_users`. Without a filter the list is what the configured "get users" operation
        returns (active users by default), paged through one sorted snapshot.
        """
        found = find_rows(self.db, node, start, count, self.location)
        if found is not None:
            total, rows = found
            by_user = self._entitlements_of([str(r["USER_ID"]) for r in rows])
            return Page(total, start, [row_to_user(r, by_user[str(r["USER_ID"])], self.location) for r in rows])
        user_id = equality_on(node, "id") if node is not None else None
        if user_id is not None:
            row = self.row(user_id)
            rows = [row] if row else []
        else:
            source = "get_users" if node is None else "get_all_users"
            rows = sorted(self.db.call(source, {}), key=lambda r: str(r.get("USER_ID")))
        if node is None:
            selected, total = rows[start - 1 : start - 1 + count] if count > 0 else [], len(rows)
        else:
            need_ents = "entitlements" in repr(node).lower()
            matched = []
            for row in rows:
                ents = self.entitlement_rows(str(row["USER_ID"])) if need_ents else []
                if matches(node, row_to_user(row, ents, self.location)):
                    matched.append(row)
            selected, total = matched[start - 1 : start - 1 + count] if count > 0 else [], len(matched)
        ents_by_user = self._entitlements_of([str(r["USER_ID"]) for r in selected])
        page = [row_to_user(r, ents_by_user[str(r["USER_ID"])], self.location) for r in selected]
        return Page(total, start, page)

    def _entitlements_of(self, user_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
        """Entitlement rows per user, fetched in batches of one round trip each."""
        found = entitlements_of(self.db, user_ids)  # one statement, when configured (lab.scim.lookup)
        if found is not None:
            return found
        out: dict[str, list[dict[str, Any]]] = {}
        for i in range(0, len(user_ids), _BATCH):
            chunk = user_ids[i : i + _BATCH]
            results = self.db.call_many([("get_user_entitlements", {"USER_ID": uid}) for uid in chunk])
            out.update(zip(chunk, results, strict=True))
        return out

    # -- writes ------------------------------------------------------------------------------

    def create(self, body: Any) -> dict[str, Any]:
        """RFC 7644 §3.3: create a user (CREATE_USER), then grant its entitlements.

        A userName that exists (in any case, active or not) is a 409 `uniqueness`: Okta reactivates
        a user with PATCH/PUT `active: true`, never by creating it again.
        """
        user = canonical_user(body, for_create=True)
        wanted = self._entitlement_ids(user.get("entitlements")) if "entitlements" in user else set()
        user_id = self._new_user_id(user["userName"])
        columns = user_to_columns(user, user_id)
        if user.get("password"):
            columns["PASSWORD_HASH"] = hash_password(user["password"])
        # The writes and the read of the new user go in one round trip, in this order; the
        # database stops at the first that fails (its error is that operation's, as one by one).
        calls: list[tuple[str, Mapping[str, Any]]] = [("create_user", columns)]
        if user.get("externalId"):
            calls.append(("set_external_id", {"USER_ID": user_id, "EXTERNALID": user["externalId"]}))
        if user.get("active") is False:
            calls.append(("deactivate_user", {"USER_ID": user_id}))
        calls += [("add_entitlement", {"USER_ID": user_id, "ENT_ID": int(e)}) for e in sorted(wanted, key=_int_key)]
        values = {"USER_ID": user_id}
        *_, rows, ents = self.db.call_many([*calls, ("get_user_by_id", values), ("get_user_entitlements", values)])
        if not rows:
            raise not_found(f"user {user_id!r} not found")
        return row_to_user(rows[0], ents, self.location)

    def replace(self, user_id: str, body: Any) -> dict[str, Any]:
        """RFC 7644 §3.5.1: replace every stored attribute (entitlements only when given).

        Read-only values in the body (`id`, `meta`, the lab extension) are ignored, as §3.5.1 says.
        """
        row = self._existing(user_id)
        user = canonical_user(body, for_create=True)
        user.pop("id", None)
        user.pop("meta", None)
        self._apply(user_id, row, user)
        return self.get(user_id)

    def patch(self, user_id: str, body: Any) -> dict[str, Any]:
        """RFC 7644 §3.5.2: apply add/replace/remove operations."""
        row = self._existing(user_id)
        ents = self.entitlement_rows(user_id)
        current = row_to_user(row, ents, self.location)
        for key in ("schemas", "meta", "id"):
            current.pop(key, None)
        if "entitlements" not in current:
            current["entitlements"] = []
        desired = apply_patch(current, body)
        desired.setdefault("entitlements", [])
        self._apply(user_id, row, desired, ents)
        return self.get(user_id)

    def deactivate(self, user_id: str) -> None:
        """DELETE (RFC 7644 §3.6) deactivates: the connector has no delete operation."""
        self._existing(user_id)
        self.db.call("deactivate_user", {"USER_ID": user_id})

    # -- entitlements ------------------------------------------------------------------------

    def entitlements(self, node: Node | None, start: int, count: int) -> Page:
        rows = self.db.call("get_all_entitlements", {})
        found = [entitlement_resource(r, self.location) for r in rows]
        found = [e for e in found if node is None or matches(node, e)]
        page = found[start - 1 : start - 1 + count] if count > 0 else []
        return Page(len(found), start, page)

    def entitlement(self, ent_id: str) -> dict[str, Any]:
        for row in self.db.call("get_all_entitlements", {}):
            if str(row.get("ENT_ID")) == ent_id:
                return entitlement_resource(row, self.location)
        raise not_found(f"entitlement {ent_id!r} not found")

    # -- helpers -----------------------------------------------------------------------------

    def _existing(self, user_id: str) -> dict[str, Any]:
        row = self.row(user_id)
        if row is None:
            raise not_found(f"user {user_id!r} not found")
        return row

    def _new_user_id(self, user_name: str) -> str:
        """A free USER_ID for `user_name`; 409 when a user (active or not) already has that name.

        Another user with the same name in a different case (so a different, case-exact id) is
        found by the create operation itself: USERNAME is unique and case-insensitive.
        """
        for attempt in range(_MAX_ID_ATTEMPTS):
            candidate = derive_user_id(user_name, attempt)
            row = self.row(candidate)
            if row is None:
                return candidate
            if str(row.get("USERNAME", "")).lower() == user_name.lower():
                state = "an active" if _active(row) else "a deactivated"
                raise conflict(f"userName {user_name!r} belongs to {state} user ({candidate!r})")
        raise bad_request(f"cannot find a free USER_ID for {user_name!r}")

    def _apply(
        self,
        user_id: str,
        row: Mapping[str, Any],
        desired: Mapping[str, Any],
        ent_rows: list[dict[str, Any]] | None = None,
    ) -> None:
        wanted = self._entitlement_ids(desired.get("entitlements")) if "entitlements" in desired else None
        columns = _update_columns(row, desired, user_id)
        if any(_norm(columns[k]) != _norm(row.get(k)) for k in columns if k != "USER_ID"):
            self.db.call("update_user", columns)
        external = desired.get("externalId") or ""
        if _norm(external) != _norm(row.get("EXTERNALID")) and (external or "EXTERNALID" in row):
            self.db.call("set_external_id", {"USER_ID": user_id, "EXTERNALID": external})
        active = desired.get("active")
        if active is not None and bool(active) != _active(row):
            self.db.call("activate_user" if active else "deactivate_user", {"USER_ID": user_id})
        if wanted is not None:
            rows = ent_rows if ent_rows is not None else self.entitlement_rows(user_id)
            self._sync_entitlements(user_id, {str(r["ENT_ID"]) for r in rows}, wanted, remove=True)

    def _sync_entitlements(self, user_id: str, current: set[str], wanted: set[str], *, remove: bool) -> None:
        for ent_id in sorted(wanted - current, key=_int_key):
            self.db.call("add_entitlement", {"USER_ID": user_id, "ENT_ID": int(ent_id)})
        if remove:
            for ent_id in sorted(current - wanted, key=_int_key):
                self.db.call("remove_entitlement", {"USER_ID": user_id, "ENT_ID": int(ent_id)})

    def _entitlement_ids(self, values: Any) -> set[str]:
        """Entitlement values (ENT_ID, or ENT_NAME) -> ENT_IDs; unknown ones are a 400."""
        if not values:
            return set()
        known = self.db.call("get_all_entitlements", {})
        by_id = {str(r["ENT_ID"]): str(r["ENT_ID"]) for r in known}
        by_name = {str(r.get("ENT_NAME", "")).lower(): str(r["ENT_ID"]) for r in known}
        out: set[str] = set()
        for item in values:
            value = str(item.get("value") or item.get("display") or "")
            ent_id = by_id.get(value) or by_name.get(value.lower())
            if ent_id is None:
                raise bad_request(f"unknown entitlement {value!r}; see /Entitlements")
            out.add(ent_id)
        return out


def _update_columns(row: Mapping[str, Any], desired: Mapping[str, Any], user_id: str) -> dict[str, Any]:
    """The 24 UPDATE_USER fields: desired values; '' clears a text column."""
    columns = user_to_columns(desired, user_id)
    for key, value in columns.items():
        if value is None and key not in _DATE_COLUMNS and key not in ("PASSWORD_HASH", "MANAGER"):
            # NULL stays NULL; a stored value is cleared with '' (the procedures keep a NULL parameter)
            columns[key] = "" if row.get(key) not in (None, "") else None
    manager = columns.get("MANAGERID")
    if columns.get("MANAGER") is None:
        same = _norm(manager) == _norm(row.get("MANAGERID"))
        columns["MANAGER"] = (row.get("MANAGER") if same else None) if manager else ""
    columns["HIREDATE"] = row.get("HIREDATE")
    columns["TERMINATIONDATE"] = row.get("TERMINATIONDATE")
    password = desired.get("password")
    columns["PASSWORD_HASH"] = hash_password(password) if password else row.get("PASSWORD_HASH")
    return columns


def _norm(value: Any) -> str:
    if value is None:
        return ""
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _active(row: Mapping[str, Any]) -> bool:
    value = row.get("IS_ACTIVE")
    return bool(int(value)) if value is not None else True


def _int_key(value: str) -> tuple[int, str]:
    return (int(value), value) if value.isdigit() else (0, value)
