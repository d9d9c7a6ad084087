"""The SCIM app in-process over an in-memory stand-in for the lab procedures: which operations a
request runs and what it answers (deactivated users, uniqueness, read-only values, bodies)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pytest
from starlette.testclient import TestClient

from lab.errors import ConfigError
from lab.scim.app import create_app
from lab.scim.backend import ServerConfig
from lab.scim.db import DbTarget
from lab.scim.errors import conflict, not_found
from lab.scim.mapping import CORE, LAB
from lab.scim.operations import load_operations
from lab.scim.patch import PATCH_OP
from lab.scim.server import config_from_environ

TOKEN = "t" * 48
H = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/scim+json"}


class FakeLab:
    """The ten procedures and the server's two, on dicts; ids case-exact, userNames not."""

    def __init__(self) -> None:
        self.users: dict[str, dict[str, Any]] = {}
        self.ents: dict[str, set[int]] = {}
        self.calls: list[str] = []
        self.entitlements = [{"ENT_ID": 1, "ENT_NAME": "VPN Access"}, {"ENT_ID": 2, "ENT_NAME": "GitHub Admin"}]

    def call(self, name: str, values: Mapping[str, Any]) -> list[dict[str, Any]]:
        self.calls.append(name)
        uid = values.get("USER_ID")
        if name == "get_users":
            return [dict(u) for u in self.users.values() if u["IS_ACTIVE"]]
        if name == "get_all_users":
            return [dict(u) for u in self.users.values()]
        if name == "get_user_by_id":
            return [dict(self.users[uid])] if uid in self.users else []
        if name == "get_user_entitlements":
            return [e for e in self.entitlements if e["ENT_ID"] in self.ents.get(uid, set())]
        if name == "get_all_entitlements":
            return list(self.entitlements)
        if name in ("create_user", "update_user"):
            low = str(values["USERNAME"]).lower() if values.get("USERNAME") else None
            if any(u["USERNAME"].lower() == low and k != uid for k, u in self.users.items()):
                raise conflict(f"duplicate user: USERNAME {values['USERNAME']}")
            if name == "create_user":  # as CREATE_USER: an inactive row with this id is reactivated
                if uid in self.users and self.users[uid]["IS_ACTIVE"]:
                    raise conflict(f"duplicate user: {uid} already exists")
                self.users[uid] = {**self.users.get(uid, {}), **{k: v for k, v in values.items() if v is not None}}
                self.users[uid]["IS_ACTIVE"] = 1
            else:
                self._require(uid)
                self.users[uid].update({k: v for k, v in values.items() if v is not None})
            return []
        self._require(uid)
        if name in ("activate_user", "deactivate_user"):
            self.users[uid]["IS_ACTIVE"] = int(name == "activate_user")
        elif name == "set_external_id":
            self.users[uid]["EXTERNALID"] = values["EXTERNALID"] or None
        elif name == "add_entitlement":
            self.ents.setdefault(uid, set()).add(int(values["ENT_ID"]))
        elif name == "remove_entitlement":
            self.ents.get(uid, set()).discard(int(values["ENT_ID"]))
        return []

    def call_many(self, calls: Sequence[tuple[str, Mapping[str, Any]]]) -> list[list[dict[str, Any]]]:
        return [self.call(name, values) for name, values in calls]

    def _require(self, uid: Any) -> None:
        if uid not in self.users:
            raise not_found(f"unknown user: {uid}")


class FakeBackend:
    def __init__(self, lab: FakeLab) -> None:
        self.lab = lab

    def database(self, header: str | None) -> FakeLab:
        return self.lab

    def close(self) -> None:
        pass


@pytest.fixture
def lab() -> FakeLab:
    return FakeLab()


@pytest.fixture
def api(lab: FakeLab) -> Iterator[TestClient]:
    config = ServerConfig(DbTarget("127.0.0.1", 3306, "x", "x", "x"), load_operations(), TOKEN, max_results=50)
    app = create_app(config, FakeBackend(lab))  # type: ignore[arg-type]
    with TestClient(app, base_url="https://testserver", headers=H) as client:
        yield client


def new_user(user_name: str, **extra: Any) -> dict[str, Any]:
    return {
        "schemas": [CORE],
        "userName": user_name,
        "name": {"givenName": "Test", "familyName": "User"},
        "emails": [{"value": user_name, "type": "work"}],
        **extra,
    }


def patch(*ops: dict[str, Any]) -> dict[str, Any]:
    return {"schemas": [PATCH_OP], "Operations": list(ops)}


def error(r: Any, status: int, scim_type: str | None = None) -> dict[str, Any]:
    assert r.status_code == status, r.text
    body: dict[str, Any] = r.json()
    assert body["status"] == str(status) and body.get("scimType") == scim_type, body
    return body


def test_filters_find_deactivated_users_and_unfiltered_lists_follow_get_users(api: TestClient, lab: FakeLab) -> None:
    """RFC 7644 §3.4.2: a filter searches every user; the plain list is the "get users" operation."""
    for name in ("han@galaxy.local", "leia@galaxy.local"):
        assert api.post("/scim/v2/Users", json=new_user(name)).status_code == 201
    r = api.patch("/scim/v2/Users/han@galaxy.local", json=patch({"op": "replace", "value": {"active": False}}))
    assert r.status_code == 200 and r.json()["active"] is False
    found = api.get("/scim/v2/Users", params={"filter": 'userName eq "HAN@galaxy.local"'}).json()
    assert [u["id"] for u in found["Resources"]] == ["han@galaxy.local"] and found["totalResults"] == 1
    inactive = api.get("/scim/v2/Users", params={"filter": "active eq false"}).json()
    assert [u["id"] for u in inactive["Resources"]] == ["han@galaxy.local"]
    assert api.get("/scim/v2/Users", params={"filter": "active eq true"}).json()["totalResults"] == 1
    listed = api.get("/scim/v2/Users").json()
    assert [u["id"] for u in listed["Resources"]] == ["leia@galaxy.local"]  # GET_ACTIVEUSERS: active only
    lab.calls.clear()
    api.get("/scim/v2/Users", params={"filter": 'userName eq "x"'})
    assert "get_all_users" in lab.calls and "get_users" not in lab.calls


def test_post_of_an_existing_user_name_is_409_and_never_reactivates(api: TestClient, lab: FakeLab) -> None:
    """RFC 7644 §3.3: 409 `uniqueness`, also for a deactivated user and another case; Okta
    reactivates with PATCH/PUT `active: true`, which keeps working."""
    uid = "finn@galaxy.local"
    assert api.post("/scim/v2/Users", json=new_user(uid, title="FN-2187")).status_code == 201
    assert api.delete(f"/scim/v2/Users/{uid}").status_code == 204
    for name in (uid, uid.upper(), "Finn@galaxy.local"):
        error(api.post("/scim/v2/Users", json=new_user(name)), 409, "uniqueness")
    assert lab.users[uid]["IS_ACTIVE"] == 0 and lab.users[uid]["TITLE"] == "FN-2187"
    assert list(lab.users) == [uid]
    r = api.patch(f"/scim/v2/Users/{uid}", json=patch({"op": "replace", "path": "active", "value": True}))
    assert r.status_code == 200 and r.json()["active"] is True
    api.delete(f"/scim/v2/Users/{uid}")
    r = api.put(f"/scim/v2/Users/{uid}", json=new_user(uid, active=True, title="Resistance"))
    assert r.status_code == 200 and r.json()["active"] is True and lab.users[uid]["TITLE"] == "Resistance"


def test_put_ignores_read_only_values(api: TestClient, lab: FakeLab) -> None:
    """RFC 7644 §3.5.1: readOnly values in a PUT (a different `id`, `meta`, the lab extension) are ignored."""
    uid = "rose@galaxy.local"
    api.post("/scim/v2/Users", json=new_user(uid))
    doc = new_user(uid, id="someone-else", title="Mechanic", meta={"resourceType": "Group"})
    doc["schemas"] = [CORE, LAB]
    doc[LAB] = {"hireDate": "1999-01-01"}
    r = api.put(f"/scim/v2/Users/{uid}", json=doc)
    assert r.status_code == 200, r.text
    assert r.json()["id"] == uid and r.json()["meta"]["resourceType"] == "User" and r.json()["title"] == "Mechanic"
    assert "someone-else" not in lab.users and lab.users[uid].get("HIREDATE") is None


def test_patch_without_path_on_read_only_extension_is_400_mutability(api: TestClient, lab: FakeLab) -> None:
    uid = "kaydel@galaxy.local"
    api.post("/scim/v2/Users", json=new_user(uid))
    for op in (
        {"op": "replace", "value": {LAB: {"hireDate": "2020-01-01"}}},
        {"op": "replace", "path": f"{LAB}:hireDate", "value": "2020-01-01"},
    ):
        error(api.patch(f"/scim/v2/Users/{uid}", json=patch(op)), 400, "mutability")
    assert lab.users[uid].get("HIREDATE") is None


def test_external_id_is_stored_and_returned(api: TestClient, lab: FakeLab) -> None:
    uid = "jannah@galaxy.local"
    r = api.post("/scim/v2/Users", json=new_user(uid, externalId="00u1okta"))
    assert r.json()["externalId"] == "00u1okta" and lab.users[uid]["EXTERNALID"] == "00u1okta"
    api.patch(f"/scim/v2/Users/{uid}", json=patch({"op": "replace", "path": "externalId", "value": "00u2"}))
    assert api.get(f"/scim/v2/Users/{uid}").json()["externalId"] == "00u2"
    by_external = [api.get("/scim/v2/Users", params={"filter": f'externalId eq "{v}"'}).json()["totalResults"]
                   for v in ("00u2", "00U2")]  # fmt: skip
    assert by_external == [1, 0]  # externalId is caseExact (RFC 7643 §3.1)
    api.put(f"/scim/v2/Users/{uid}", json=new_user(uid))  # PUT replaces: absent means cleared
    assert "externalId" not in api.get(f"/scim/v2/Users/{uid}").json() and lab.users[uid]["EXTERNALID"] is None
    lab.calls.clear()
    api.put(f"/scim/v2/Users/{uid}", json=new_user(uid))
    assert "set_external_id" not in lab.calls  # unchanged: no write


def test_entitlements_with_type_display_primary(api: TestClient, lab: FakeLab) -> None:
    items = [{"value": "1", "type": "Entitlement", "display": "VPN Access", "primary": True}]
    r = api.post("/scim/v2/Users", json=new_user("zorii@galaxy.local", entitlements=items))
    assert r.status_code == 201, r.text
    assert r.json()["entitlements"] == [{"value": "1", "type": "Entitlement"}]
    add = {"op": "add", "path": "entitlements", "value": [{"value": "2", "type": "Entitlement", "display": "x"}]}
    assert api.patch("/scim/v2/Users/zorii@galaxy.local", json=patch(add)).status_code == 200
    assert lab.ents["zorii@galaxy.local"] == {1, 2}


def test_entitlement_resource_type_and_schema_use_oktas_urn(api: TestClient) -> None:
    """Okta's "SCIM 2.0 with entitlements" discovers `urn:okta:scim:schemas:core:1.0:Entitlement`."""
    urn = "urn:okta:scim:schemas:core:1.0:Entitlement"
    types = {t["id"]: t for t in api.get("/scim/v2/ResourceTypes").json()["Resources"]}
    assert types["Entitlement"]["schema"] == urn and types["Entitlement"]["endpoint"] == "/Entitlements"
    assert api.get(f"/scim/v2/Schemas/{urn}").json()["id"] == urn
    ent = api.get("/scim/v2/Entitlements/1").json()
    assert ent["schemas"] == [urn] and ent["type"] == "Entitlement" and ent["displayName"] == "VPN Access"
    listed = api.get("/scim/v2/Entitlements").json()
    assert listed["totalResults"] == 2 and all(e["schemas"] == [urn] for e in listed["Resources"])


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000,
        b"{" * 5000 + b"}" * 5000,
        json.dumps({"schemas": [CORE], "userName": "x", "title": json.loads("[" * 40 + "]" * 40)}).encode(),
        b'{"a":' * 3000 + b"1" + b"}" * 3000,
    ],
)
@pytest.mark.parametrize(("method", "path"), [("POST", "/Users"), ("PUT", "/Users/x"), ("PATCH", "/Users/x"),
                                              ("POST", "/.search")])  # fmt: skip
def test_deeply_nested_bodies_are_400_not_500(api: TestClient, body: bytes, method: str, path: str) -> None:
    r = api.request(method, f"/scim/v2{path}", content=body)
    body_out = error(r, 400, "invalidSyntax")
    assert "deeper than" in body_out["detail"]


def test_nesting_inside_strings_is_not_counted(api: TestClient) -> None:
    r = api.post("/scim/v2/Users", json=new_user("brackets@galaxy.local", title="[[[[{{{{" * 100 + '"\\'))
    assert r.status_code == 201, r.text


def test_only_the_configured_app_is_served_under_ws_rest(lab: FakeLab) -> None:
    config = ServerConfig(DbTarget("127.0.0.1", 3306, "x", "x", "x"), load_operations(), TOKEN, apps=("hr_db",))
    with TestClient(create_app(config, FakeBackend(lab))) as c:  # type: ignore[arg-type]
        assert c.get("/ws/rest/hr_db/scim/v2/Users", headers=H).status_code == 200
        assert c.get("/scim/v2/Users", headers=H).status_code == 200
        others = ("/ws/rest/jdbc_on_prem/scim/v2/Users", "/ws/rest/HR_DB/scim/v2/Users", "/ws/rest/x/scim/v2/Status")
        for other in others:
            body = error(c.get(other, headers=H), 404)
            assert body["detail"] == "no such endpoint"
        assert c.get("/ws/rest/nope/scim/v2/Users").status_code == 401  # no token: nothing is told


@pytest.mark.parametrize("app", ["", "jdbc_on_prem"])
def test_scim_app_from_the_environment(app: str, tmp_path: Any) -> None:
    env = {"MARIADB_PASSWORD": "p", "SCIM_DATA_DIR": str(tmp_path), "SCIM_TLS": "0", "SCIM_APP": app}
    config, _listen = config_from_environ(env)
    assert config.apps == ("jdbc_on_prem",)


@pytest.mark.parametrize("app", ["a/b", "x" * 65, "é"])
def test_an_invalid_scim_app_is_refused(app: str, tmp_path: Any) -> None:
    env = {"MARIADB_PASSWORD": "p", "SCIM_DATA_DIR": str(tmp_path), "SCIM_TLS": "0", "SCIM_APP": app}
    with pytest.raises(ConfigError, match="SCIM_APP=.* is invalid"):
        config_from_environ(env)
