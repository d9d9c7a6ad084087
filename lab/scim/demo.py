"""`lab scim demo`: play Okta's part against the SCIM server and show the database after each step.

Steps: create a user with two entitlements, update the title, deactivate, reactivate, remove an
entitlement. Rows are read through the lab's views (V_ACTIVE_USERS / V_INACTIVE_USERS and
V_USERENTITLEMENTS / V_INACTIVE_USERENTITLEMENTS). Re-running the demo starts from the same state:
the user then exists (there is no hard delete), so the first step is what Okta does for a user it
finds by userName, a PUT of the same document with `active: true` (200), since a POST of an existing
userName is a 409 (RFC 7644 §3.3).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from lab.scim.mapping import CORE
from lab.scim.patch import PATCH_OP

USER_VIEWS = ("V_ACTIVE_USERS", "V_INACTIVE_USERS")
ENT_VIEWS = ("V_USERENTITLEMENTS", "V_INACTIVE_USERENTITLEMENTS")
USER_COLUMNS = ("USER_ID", "USERNAME", "FULLNAME", "TITLE", "IS_ACTIVE")
ENT_COLUMNS = ("USER_ID", "ENT_ID", "ENT_NAME")
_SAFE_ID = re.compile(r"^[A-Za-z0-9._@+~-]{1,100}$")


class ScimCaller(Protocol):
    def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]: ...


class ViewReader(Protocol):
    """Reads rows of a lab view for one USER_ID."""

    def rows(self, view: str, columns: tuple[str, ...], user_id: str) -> list[dict[str, Any]]: ...


@dataclass(frozen=True)
class DemoStep:
    title: str
    request: str  # e.g. "POST /Users {userName, 2 entitlements}"
    status: int
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


@dataclass(frozen=True)
class DemoUser:
    user_name: str
    given_name: str = "Rey"
    family_name: str = "Skywalker"
    title: str = "Jedi Apprentice"
    new_title: str = "Jedi Knight"
    entitlements: tuple[str, str] = ("1", "2")


def run_demo(
    scim: ScimCaller,
    views: ViewReader,
    user: DemoUser,
    on_step: Callable[[DemoStep], None] | None = None,
) -> list[DemoStep]:
    """Run the scenario; each step's rows are read right after its request."""
    steps: list[DemoStep] = []
    user_id = user.user_name

    def step(title: str, summary: str, method: str, path: str, body: dict[str, Any] | None) -> Any:
        status, payload = scim.request(method, path, body)
        if status >= 400:
            detail = payload.get("detail") if isinstance(payload, dict) else payload
            raise DemoError(f"{title}: {method} {path} returned {status}: {detail}")
        done = DemoStep(title, f"{method} {path} {summary}".rstrip(), status, _rows(views, user_id))
        steps.append(done)
        if on_step:
            on_step(done)
        return payload

    if not _SAFE_ID.match(user_id):
        raise DemoError(f"demo user name {user_id!r} has characters the demo does not use")
    exists, _ = scim.request("GET", f"/Users/{user_id}", None)
    body = {
        "schemas": [CORE],
        "userName": user.user_name,
        "name": {"givenName": user.given_name, "familyName": user.family_name},
        "displayName": f"{user.given_name} {user.family_name}",
        "emails": [{"value": user.user_name, "type": "work", "primary": True}],
        "title": user.title,
        "active": True,
        "entitlements": [{"value": e} for e in user.entitlements],
    }
    summary = f"{{userName: {user.user_name}, entitlements: {', '.join(user.entitlements)}}}"
    if exists == 200:  # left over from an earlier run: replace it, as Okta does for a user it finds
        created = step("Replace the existing user with two entitlements", summary, "PUT", f"/Users/{user_id}", body)
    else:
        created = step("Create the user with two entitlements", summary, "POST", "/Users", body)
    user_id = str(created.get("id", user_id))
    step(
        "Update the title",
        f"{{replace title: {user.new_title}}}",
        "PATCH",
        f"/Users/{user_id}",
        _patch("replace", "title", user.new_title),
    )
    step("Deactivate", "{replace active: false}", "PATCH", f"/Users/{user_id}", _patch("replace", "active", False))
    step("Reactivate", "{replace active: true}", "PATCH", f"/Users/{user_id}", _patch("replace", "active", True))
    removed = user.entitlements[0]
    step(
        "Remove an entitlement",
        f'{{remove entitlements[value eq "{removed}"]}}',
        "PATCH",
        f"/Users/{user_id}",
        {"schemas": [PATCH_OP], "Operations": [{"op": "remove", "path": f'entitlements[value eq "{removed}"]'}]},
    )
    return steps


class DemoError(Exception):
    """A demo request failed; the message says which step and why."""


def _patch(op: str, path: str, value: Any) -> dict[str, Any]:
    return {"schemas": [PATCH_OP], "Operations": [{"op": op, "path": path, "value": value}]}


def _rows(views: ViewReader, user_id: str) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for view in USER_VIEWS:
        out[view] = [_strings(r) for r in views.rows(view, USER_COLUMNS, user_id)]
    for view in ENT_VIEWS:
        out[view] = [_strings(r) for r in views.rows(view, ENT_COLUMNS, user_id)]
    return out


def _strings(row: dict[str, Any]) -> dict[str, Any]:
    return {k: None if v is None else str(v) for k, v in row.items()}


class PyMySQLViews:
    """Reads views over a direct connection (published port or a native host)."""

    def __init__(self, connect: Callable[[], Any]) -> None:
        self._connect = connect

    def rows(self, view: str, columns: tuple[str, ...], user_id: str) -> list[dict[str, Any]]:
        _check_names(view, columns)
        conn = self._connect()
        try:
            with conn.cursor() as cur:
                order = "ENT_ID" if "ENT_ID" in columns else "USER_ID"
                cur.execute(
                    f"SELECT {', '.join(columns)} FROM {view} WHERE USER_ID = %s ORDER BY {order}",
                    (user_id,),
                )
                return [dict(r) for r in cur.fetchall()]
        finally:
            conn.close()


def _check_names(view: str, columns: tuple[str, ...]) -> None:
    """Identifiers are fixed constants; refuse anything else before building the statement."""
    allowed = set(USER_VIEWS + ENT_VIEWS)
    if view not in allowed or not all(re.fullmatch(r"[A-Z_]+", c) for c in columns):
        raise DemoError(f"unexpected view or column name: {view}")


class DockerExecViews:
    """Reads views with the `mariadb` client inside the lab's `db` container (no published port).

    The password goes in the exec environment, never on a command line; the USER_ID is checked
    against a strict pattern before it is put in the statement.
    """

    def __init__(self, container: Any, database: str, user: str, password: str) -> None:
        self.container = container
        self.database = database
        self.user = user
        self.password = password

    def rows(self, view: str, columns: tuple[str, ...], user_id: str) -> list[dict[str, Any]]:
        _check_names(view, columns)
        if not _SAFE_ID.match(user_id):
            raise DemoError(f"USER_ID {user_id!r} cannot be queried safely")
        order = "ENT_ID" if "ENT_ID" in columns else "USER_ID"
        sql = f"SELECT {', '.join(columns)} FROM {view} WHERE USER_ID = '{user_id}' ORDER BY {order}"
        code, output = self.container.exec_run(
            [
                "mariadb",
                "--protocol=tcp",
                "-h",
                "127.0.0.1",
                "-u",
                self.user,
                "-B",
                "--default-character-set=utf8mb4",
                self.database,
                "-e",
                sql,
            ],
            environment={"MYSQL_PWD": self.password},
            demux=False,
        )
        text = output.decode(errors="replace") if isinstance(output, bytes) else str(output)
        if code != 0:
            raise DemoError(f"reading {view} failed: {text.strip()[:200]}")
        lines = [line for line in text.splitlines() if line]
        if not lines:
            return []
        header = lines[0].split("\t")
        return [dict(zip(header, _nulls(line.split("\t")), strict=False)) for line in lines[1:]]


def _nulls(values: list[str]) -> list[str | None]:
    return [None if v == "NULL" else v for v in values]


class PsqlExecViews(DockerExecViews):
    """`DockerExecViews` for JDBC_DATABASE=postgresql: the `psql` client in the `db` container,
    as the application role over TCP (password in the exec environment)."""

    def rows(self, view: str, columns: tuple[str, ...], user_id: str) -> list[dict[str, Any]]:
        _check_names(view, columns)
        if not _SAFE_ID.match(user_id):
            raise DemoError(f"USER_ID {user_id!r} cannot be queried safely")
        order = "ENT_ID" if "ENT_ID" in columns else "USER_ID"
        sql = f"SELECT {', '.join(columns)} FROM {view} WHERE USER_ID = '{user_id}' ORDER BY {order}"
        code, output = self.container.exec_run(
            ["psql", "-X", "-q", "-h", "127.0.0.1", "-U", self.user, "-d", self.database, "-v", "ON_ERROR_STOP=1",
             "-A", "-F", "\t", "-P", "footer=off", "-P", "null=NULL", "-c", sql],
            environment={"PGPASSWORD": self.password},
            demux=False,
        )  # fmt: skip
        text = output.decode(errors="replace") if isinstance(output, bytes) else str(output)
        if code != 0:
            raise DemoError(f"reading {view} failed: {text.strip()[:200]}")
        lines = [line for line in text.splitlines() if line]
        if not lines:
            return []
        header = [name.upper() for name in lines[0].split("\t")]
        return [dict(zip(header, _nulls(line.split("\t")), strict=False)) for line in lines[1:]]
