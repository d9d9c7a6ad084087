"""The JSON API in-process: auth on every endpoint, filters/sort/paging as the list page has them,
bad parameters as 400s, refresh progress, and responses that match the OpenAPI document (checked
by openapi-spec-validator and jsonschema, not by our own code)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from openapi_spec_validator import validate
from referencing import Registry, Resource
from starlette.routing import Route
from starlette.testclient import TestClient

from lab.viewer.api_spec import SPEC
from lab.viewer.app import create_app
from lab.viewer.storage import StoredObject
from tests.unit.test_viewer_app import login, settings

DOC = Path(__file__).resolve().parents[2] / "docs" / "viewer-api.json"
TEAMS, USERS = ("red", "blue", "gold"), ("luke", "leia", "han", "chewie")


def names(n: int) -> list[str]:
    out = []
    for i in range(n):
        proto, ext = ("rdp", ".asa-1.mkv") if i % 5 == 0 else ("ssh", ".cast")
        stamp = f"202603{1 + i % 28:02d}T1{i % 10}0000.{i:04d}"
        out.append(f"{proto}~{stamp}~{TEAMS[i % 3]}~proj-{i % 4}~srv-{i % 7}~{USERS[i % 4]}~{i:06x}{ext}")
    return out


class Listing:
    """A storage double: `n` objects; while `gate` is set up, the listing pauses after 1,500."""

    def __init__(self, n: int) -> None:
        self.objects = [StoredObject(k, 1000 + i, 1.7e9) for i, k in enumerate(names(n))]
        self.gate: threading.Event | None = None
        self.paused = threading.Event()

    def list(self) -> Iterator[StoredObject]:
        for i, o in enumerate(self.objects):
            if i == 1500 and self.gate is not None:
                self.paused.set()
                self.gate.wait(10)
            yield o

    def read_head(self, key: str, size: int = 65536) -> bytes:
        return b""  # names only: nothing for the search index to read

    def describe(self) -> str:
        return "test listing"

    def check(self) -> None:
        return None


@pytest.fixture(scope="module")
def store() -> Listing:
    return Listing(2500)


@pytest.fixture(scope="module")
def client(store: Listing) -> Iterator[TestClient]:
    app = create_app(settings(), store, background_index=False)  # type: ignore[arg-type]
    with TestClient(app) as c:
        assert login(c) == 303
        yield c


def schema_check(data: Any, name: str) -> None:
    document = {**SPEC, "$schema": jsonschema.Draft202012Validator.META_SCHEMA["$id"]}
    registry = Registry().with_resource("urn:spec", Resource.from_contents(document))
    validator = jsonschema.Draft202012Validator({"$ref": f"urn:spec#/components/schemas/{name}"}, registry=registry)
    validator.validate(data)


def test_openapi_document_is_valid_served_and_in_docs(client: TestClient) -> None:
    validate(SPEC)  # openapi-spec-validator: a valid OpenAPI 3.1 document
    served = client.get("/api/v1/openapi.json")
    assert served.status_code == 200 and served.json() == SPEC
    rewrite = (
        "python -c 'import json; from lab.viewer.api_spec import SPEC; "
        'open("docs/viewer-api.json", "w").write(json.dumps(SPEC, indent=2) + "\\n")\''
    )
    assert DOC.exists() and json.loads(DOC.read_text()) == SPEC, f"docs/viewer-api.json is stale; run {rewrite}"


def test_every_api_route_needs_sign_in(store: Listing) -> None:
    app = create_app(settings(), store, background_index=False)  # type: ignore[arg-type]
    paths = {r.path for r in app.routes if isinstance(r, Route) and r.path.startswith("/api/")}
    assert set(SPEC["paths"]) <= paths
    with TestClient(app) as anonymous:
        for path in [*SPEC["paths"], "/api/v1/nothing-here"]:
            r = anonymous.get(path, follow_redirects=False)
            assert r.status_code == 401, path
            assert r.json()["error"].startswith("authentication required")
        assert anonymous.post("/api/v1/refresh").status_code == 401


def test_list_filters_sort_and_pages(client: TestClient) -> None:
    r = client.get("/api/v1/recordings", params={"team": "red", "user": "luke", "sort": "server", "order": "asc",
                                                 "per_page": 7, "page": 2})  # fmt: skip
    assert r.status_code == 200
    body = r.json()
    schema_check(body, "RecordingPage")
    everything = [n for n in names(2500) if "~red~" in n and "~luke~" in n]
    assert body["total"] == len(everything) and body["per_page"] == 7 and body["page"] == 2
    assert body["pages"] == -(-len(everything) // 7)
    assert all(i["team"] == "red" and i["user"] == "luke" for i in body["items"])
    first = client.get("/api/v1/recordings", params={"team": "red", "user": "luke", "sort": "server",
                                                     "order": "asc", "per_page": 7}).json()  # fmt: skip
    servers = [i["server"] for i in first["items"] + body["items"]]
    assert servers == sorted(servers, key=str.lower)
    assert not {i["id"] for i in first["items"]} & {i["id"] for i in body["items"]}


def test_default_order_is_newest_first_to_the_microsecond(client: TestClient) -> None:
    items = client.get("/api/v1/recordings", params={"per_page": 100}).json()["items"]
    started = [i["started"] for i in items]
    assert started == sorted(started, reverse=True)
    assert all(s.endswith("Z") and len(s) == len("2026-03-01T10:00:00.000000Z") for s in started)
    one = client.get("/api/v1/recording", params={"id": items[0]["id"]})
    assert one.status_code == 200 and one.json() == items[0]
    schema_check(one.json(), "Recording")
    assert items[0]["links"]["play"].startswith("/play?id=")


def test_search_dates_and_unknown_values(client: TestClient) -> None:
    body = client.get("/api/v1/recordings", params={"q": "SRV-1", "from": "2026-03-02", "to": "2026-03-03"}).json()
    assert body["total"] > 0
    assert all(i["server"] == "srv-1" and i["started"][:10] in ("2026-03-02", "2026-03-03") for i in body["items"])
    none = client.get("/api/v1/recordings", params={"team": "purple"}).json()
    assert none["total"] == 0 and none["unknown_filters"] == [{"facet": "team", "value": "purple"}]
    assert client.get("/api/v1/recording", params={"id": "ssh~nope.cast"}).status_code == 404


def test_date_time_bounds_are_exact(client: TestClient) -> None:
    """`from`/`to` take ISO 8601 date-times (offset, or `tz`); `to` covers the minute it names."""
    every = client.get("/api/v1/recordings", params={"from": "2026-03-02", "to": "2026-03-02", "per_page": 100}).json()
    starts = sorted(i["started"] for i in every["items"])
    assert every["total"] == len(starts) > 3  # names(2500) has 89 a day: page 1 of 100 is enough here
    body = client.get("/api/v1/recordings", params={"from": "2026-03-02T11:00Z", "to": "2026-03-02T11:00:00"}).json()
    assert body["total"] > 0 and all(i["started"].startswith("2026-03-02T11:00:00.") for i in body["items"])
    same = {"from": "2026-03-02T12:00+01:00", "to": "2026-03-02T12:00+01:00"}
    assert client.get("/api/v1/recordings", params=same).json()["total"] == body["total"]
    zoned = {"from": "2026-03-02T12:00", "to": "2026-03-02T12:00", "tz": "Europe/Paris"}
    assert client.get("/api/v1/recordings", params=zoned).json()["total"] == body["total"]
    first = body["items"][-1]["started"]  # the earliest of that minute, to the microsecond
    after = client.get("/api/v1/recordings", params={"from": first.replace("Z", "") + "1", "to": "2026-03-02T11:00"})
    assert after.status_code == 400  # seven digits of a second: not ISO 8601 as we take it
    later = first[:-2] + str(int(first[-2]) + 1) + "Z" if first[-2] != "9" else first
    n = client.get("/api/v1/recordings", params={"from": later, "to": "2026-03-02T11:00"}).json()["total"]
    assert n == body["total"] - (later != first)
    swapped = client.get("/api/v1/recordings", params={"from": "2026-03-02T11:01Z", "to": "2026-03-02T11:00Z"})
    assert swapped.status_code == 400 and "is after the to time" in swapped.json()["error"]


@pytest.mark.parametrize(
    ("params", "problem"),
    [
        ({"per_page": "500"}, "per_page must be a whole number from 1 to 100"),
        ({"per_page": "ten"}, "per_page must be a whole number from 1 to 100"),
        ({"page": "0"}, "page must be a whole number"),
        ({"sort": "password"}, "Unknown sort column 'password'"),
        ({"order": "up"}, "order must be asc or desc"),
        ({"from": "13/03/2026"}, "Ignored the from time"),
        ({"tema": "red"}, "unknown parameter 'tema'"),
        ({"to": "2026-03-02T10:61"}, "Ignored the to time"),
        ({"tz": "Mars/Olympus"}, "Unknown time zone 'Mars/Olympus'"),
    ],
)
def test_bad_parameters_are_400_with_the_reason(client: TestClient, params: dict[str, str], problem: str) -> None:
    r = client.get("/api/v1/recordings", params=params)
    assert r.status_code == 400
    schema_check(r.json(), "Error")
    assert problem in r.json()["error"]


def test_filter_options_count_every_value(client: TestClient) -> None:
    body = client.get("/api/v1/filter-options").json()
    schema_check(body, "FilterOptions")
    teams = {o["value"]: o["count"] for o in body["facets"]["team"]}
    assert teams == {t: sum(1 for n in names(2500) if f"~{t}~" in n) for t in TEAMS}
    assert {o["value"] for o in body["facets"]["protocol"]} == {"ssh", "rdp"}
    assert body["first_day"] == "2026-03-01" and body["last_day"] == "2026-03-28"


def test_refresh_needs_csrf_and_reports_progress(store: Listing) -> None:
    app = create_app(settings(VIEWER_INDEX_REFRESH_SECONDS=3600), store)  # type: ignore[arg-type]
    with TestClient(app) as c:
        assert login(c) == 303
        deadline = time.monotonic() + 20
        while c.get("/api/v1/refresh").json()["recordings"] < 2500:  # the first, background build
            assert time.monotonic() < deadline
            time.sleep(0.05)
        idle = c.get("/api/v1/refresh").json()
        schema_check(idle, "RefreshStatus")
        assert idle["state"] == "idle" and idle["error"] is None
        assert c.post("/api/v1/refresh").status_code == 403
        assert c.post("/api/v1/refresh", headers={"X-CSRF-Token": "forged"}).status_code == 403
        token = c.get("/api/v1/me").json()["csrf_token"]
        store.gate, store.paused = threading.Event(), threading.Event()
        try:
            started = c.post("/api/v1/refresh", headers={"X-CSRF-Token": token})
            assert started.status_code == 202
            assert store.paused.wait(10)
            mid = c.get("/api/v1/refresh").json()
            schema_check(mid, "RefreshStatus")
            assert mid["state"] == "listing" and mid["refreshing"] is True
            assert mid["progress"]["listed"] == 1000 and mid["progress"]["expected"] == 2500
            assert mid["progress"]["fraction"] == pytest.approx(0.4)
        finally:
            store.gate.set()
        while c.get("/api/v1/refresh").json()["state"] != "idle":
            assert time.monotonic() < deadline + 20
            time.sleep(0.05)
        done = c.get("/api/v1/refresh").json()
        assert done["recordings"] == 2500 and done["progress"]["listed"] == 2500
    store.gate = None
