"""Optional enrichment of the graph from the Okta Privileged Access (OPA) API.

When the four `VIEWER_PAM_*` keys are set, a background thread asks the tenant for its resource
groups, their projects and the servers enrolled in each (plus the gateways), on the index's
schedule. Requests only read the cached result: a slow, failing or misconfigured API never delays
or breaks a page; the graph then keeps what the recording names say and shows one line why.

API facts used (OPA API reference, "Authentication" and the list operations):
- `POST /v1/teams/{team}/service_token` with `{"key_id", "key_secret"}` issues a short-lived
  bearer token (`bearer_token`, `expires_at`, `team_name`).
- `GET /v1/teams/{team}/resource_groups`, `.../resource_groups/{rg}/projects`,
  `.../projects/{project}/servers` and `/v1/teams/{team}/gateways` answer `{"list": [...]}` and
  paginate with a `Link` header whose `rel="next"` target is the next page (RFC 8288 §3).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import httpx

from lab.settings.viewer import ViewerSettings
from lab.viewer.refresher import Refresher

log = logging.getLogger("lab.viewer.pam")

TIMEOUT = 10.0
MAX_PAGES = 500  # per list; a guard against a server that links back to itself forever
TOKEN_MARGIN = timedelta(seconds=60)


class PamError(Exception):
    """One line saying why the OPA API could not be read. Never contains the key secret."""


@dataclass(frozen=True)
class PamServer:
    id: str
    hostname: str
    canonical_name: str = ""
    os_type: str = ""
    access_address: str = ""

    @property
    def names(self) -> set[str]:
        """Lower-cased names a recording may carry for this server."""
        return {n.lower() for n in (self.hostname, self.canonical_name) if n}

    @property
    def detail(self) -> str:
        parts = [self.os_type, self.access_address]
        if self.canonical_name and self.canonical_name != self.hostname:
            parts.insert(0, self.canonical_name)
        return " · ".join(p for p in parts if p)


@dataclass(frozen=True)
class PamProject:
    id: str
    name: str
    resource_group: str
    servers: tuple[PamServer, ...] = ()


@dataclass(frozen=True)
class PamInventory:
    team: str
    projects: tuple[PamProject, ...]
    gateways: tuple[str, ...] = ()
    gateways_error: str = ""
    fetched_at: datetime | None = None

    @property
    def server_count(self) -> int:
        return len({s.id for p in self.projects for s in p.servers})


@dataclass(frozen=True)
class PamState:
    """What the graph page reads: the last good inventory and the last failure, if any."""

    inventory: PamInventory | None = None
    error: str = ""
    checked_at: datetime | None = None


class PamClient:
    """A small OPA API client: service-user token, then paginated lists (httpx, timeouts)."""

    def __init__(self, base_url: str, team: str, key_id: str, key_secret: str, *, timeout: float = TIMEOUT) -> None:
        self.base_url = base_url.rstrip("/")
        self.team = team
        self._key_id = key_id
        self._key_secret = key_secret
        self._timeout = timeout
        self._token = ""
        self._token_until = datetime.min.replace(tzinfo=UTC)

    @classmethod
    def from_settings(cls, settings: ViewerSettings) -> PamClient:
        return cls(settings.pam_url, settings.pam_team, settings.pam_key_id, settings.pam_key_secret)

    def __repr__(self) -> str:  # never the secret
        return f"PamClient({self.base_url!r}, team={self.team!r})"

    @property
    def _team_path(self) -> str:
        return f"/v1/teams/{quote(self.team, safe='')}"

    def _issue_token(self, http: httpx.Client) -> str:
        path = f"{self._team_path}/service_token"
        resp = http.post(path, json={"key_id": self._key_id, "key_secret": self._key_secret})
        if resp.status_code in (401, 403):
            raise PamError(
                f"the API refused the service user's key (HTTP {resp.status_code}); "
                "check VIEWER_PAM_KEY_ID and VIEWER_PAM_KEY_SECRET"
            )
        if resp.status_code != 200:
            raise PamError(f"POST {path} answered HTTP {resp.status_code}")
        body = _json(resp, path)
        token = body.get("bearer_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise PamError(f"POST {path} returned no bearer_token")
        team = str(body.get("team_name") or self.team)
        if team.lower() != self.team.lower():
            raise PamError(f"the key belongs to team {team!r}, not VIEWER_PAM_TEAM={self.team!r}")
        self._token = token
        self._token_until = _expiry(body.get("expires_at")) - TOKEN_MARGIN
        return token

    def _bearer(self, http: httpx.Client) -> str:
        if self._token and datetime.now(UTC) < self._token_until:
            return self._token
        return self._issue_token(http)

    def _get_all(self, http: httpx.Client, path: str) -> list[dict[str, Any]]:
        """Every item of a paginated list, following `Link: <...>; rel="next"` on the same origin."""
        url = urljoin(self.base_url + "/", path.lstrip("/"))
        seen: set[str] = set()
        items: list[dict[str, Any]] = []
        retried = False
        origin = _origin(self.base_url)
        while url:
            if url in seen or len(seen) >= MAX_PAGES:
                raise PamError(f"GET {path}: pagination does not end")
            resp = http.get(url, headers={"Authorization": f"Bearer {self._bearer(http)}"})
            if resp.status_code == 401 and not retried:  # token expired or revoked early: once more
                self._token, retried = "", True
                continue
            seen.add(url)
            if resp.status_code == 403:
                raise PamError(f"GET {path}: the service user lacks permission (HTTP 403)")
            if resp.status_code != 200:
                raise PamError(f"GET {path} answered HTTP {resp.status_code}")
            body = _json(resp, path)
            page = body.get("list") if isinstance(body, dict) else None
            if not isinstance(page, list):
                raise PamError(f"GET {path} did not return a list")
            items.extend(i for i in page if isinstance(i, dict) and not i.get("deleted_at"))
            nxt = resp.links.get("next", {}).get("url")
            url = urljoin(str(resp.url), nxt) if nxt else ""
            if url and _origin(url) != origin:
                raise PamError(f"GET {path}: refusing a next page on another host")
        return items

    def inventory(self) -> PamInventory:
        """Resource groups -> projects -> servers, and the gateways (optional: may lack permission)."""
        try:
            with httpx.Client(base_url=self.base_url, timeout=self._timeout, follow_redirects=False) as http:
                projects = []
                for rg in self._get_all(http, f"{self._team_path}/resource_groups"):
                    rg_path = f"{self._team_path}/resource_groups/{quote(str(rg.get('id', '')), safe='')}"
                    for p in self._get_all(http, f"{rg_path}/projects"):
                        p_path = f"{rg_path}/projects/{quote(str(p.get('id', '')), safe='')}/servers"
                        servers = tuple(_server(s) for s in self._get_all(http, p_path) if s.get("hostname"))
                        projects.append(
                            PamProject(str(p.get("id", "")), str(p.get("name", "")), str(rg.get("name", "")), servers)
                        )
                gateways: tuple[str, ...] = ()
                gateways_error = ""
                try:
                    gateways = tuple(str(g.get("name", "")) for g in self._get_all(http, f"{self._team_path}/gateways"))
                except PamError as exc:
                    gateways_error = str(exc)
        except httpx.HTTPError as exc:
            raise PamError(f"cannot reach {_origin(self.base_url)}: {type(exc).__name__}") from None
        return PamInventory(
            team=self.team,
            projects=tuple(p for p in projects if p.name),
            gateways=tuple(sorted(g for g in gateways if g)),
            gateways_error=gateways_error,
            fetched_at=datetime.now(UTC),
        )


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc.lower()


def _json(resp: httpx.Response, path: str) -> Any:
    try:
        return resp.json()
    except ValueError:
        raise PamError(f"{path} did not return JSON") from None


def _expiry(value: object) -> datetime:
    """`expires_at` (RFC 3339); Go writes up to nine fraction digits, Python takes six."""
    text = str(value or "")
    if "." in text:
        head, _, rest = text.partition(".")
        digits = "".join(c for c in rest if c.isdigit())
        text = f"{head}.{digits[:6]}{rest[len(digits) :]}"
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return datetime.now(UTC) + timedelta(minutes=5)
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _server(item: Mapping[str, Any]) -> PamServer:
    return PamServer(
        id=str(item.get("id", "")),
        hostname=str(item.get("hostname", "")),
        canonical_name=str(item.get("canonical_name") or ""),
        os_type=str(item.get("os_type") or ""),
        access_address=str(item.get("access_address") or ""),
    )


class PamDirectory:
    """Caches the inventory and refreshes it off the request path, like the recording index."""

    def __init__(self, client: PamClient, refresh_seconds: float = 300.0) -> None:
        self.client = client
        self.refresh_seconds = refresh_seconds
        self._state = PamState()
        self._refresher = Refresher(self.refresh_now, refresh_seconds, "viewer-pam", TIMEOUT + 5)
        self._building = threading.Lock()

    @property
    def state(self) -> PamState:
        return self._state

    def refresh_now(self) -> PamState:
        """Read the API once; on failure keep the last good inventory and record why."""
        with self._building:
            started = time.perf_counter()
            now = datetime.now(UTC)
            try:
                inventory = self.client.inventory()
            except PamError as exc:
                log.warning("Okta Privileged Access API: %s", exc)
                self._state = PamState(self._state.inventory, str(exc), now)
                return self._state
            self._state = PamState(inventory, "", now)
            log.info(
                "Okta Privileged Access: %d projects, %d servers in %.2fs",
                len(inventory.projects),
                inventory.server_count,
                time.perf_counter() - started,
            )
            return self._state

    def request_refresh(self) -> None:
        """Ask the background thread for a refresh now; returns immediately."""
        self._refresher.request()

    def start(self) -> None:
        self._refresher.start()

    def stop(self) -> None:
        self._refresher.stop()


# -- the graph: recordings' team -> project -> server, merged with the inventory -----------------


@dataclass(frozen=True)
class GraphServer:
    key: str  # the server value recordings carry ("" when no recording names it)
    label: str
    sessions: int
    pam: bool | None = None  # True: enrolled in OPA; False: OPA does not know it; None: no OPA data
    detail: str = ""


@dataclass(frozen=True)
class GraphProject:
    key: str
    label: str
    servers: tuple[GraphServer, ...]
    pam: bool | None = None
    detail: str = ""

    @property
    def sessions(self) -> int:
        return sum(s.sessions for s in self.servers)


@dataclass(frozen=True)
class GraphTeam:
    key: str
    label: str
    projects: tuple[GraphProject, ...]
    pam: bool | None = None

    @property
    def sessions(self) -> int:
        return sum(p.sessions for p in self.projects)


Tree = Mapping[str, Mapping[str, Mapping[str, int]]]


def _by_label(items: list[Any]) -> tuple[Any, ...]:
    return tuple(sorted(items, key=lambda i: (i.label.lower(), i.key)))


def _plain(projects: Mapping[str, Mapping[str, int]]) -> tuple[GraphProject, ...]:
    return _by_label(
        [
            GraphProject(p, p, _by_label([GraphServer(s, s, n) for s, n in servers.items()]))
            for p, servers in projects.items()
        ]
    )


def _enriched_project(key: str, servers: Mapping[str, int], found: list[PamProject]) -> GraphProject:
    """One project of the OPA team: recorded servers labelled by OPA, enrolled ones added."""
    if not found:
        return GraphProject(key, key, _by_label([GraphServer(s, s, n, False) for s, n in servers.items()]), False)
    enrolled: dict[str, PamServer] = {}
    for project in found:
        for server in project.servers:
            enrolled.setdefault(server.id or server.hostname, server)
    by_name = {name: s for s in enrolled.values() for name in s.names}
    out, matched = [], set()
    for name, n in servers.items():
        hit = by_name.get(name.lower())
        if hit is None:
            out.append(GraphServer(name, name, n, False))
        else:
            matched.add(hit.id or hit.hostname)
            out.append(GraphServer(name, hit.hostname, n, True, hit.detail))
    out += [GraphServer("", s.hostname, 0, True, s.detail) for k, s in enrolled.items() if k not in matched]
    groups = sorted({p.resource_group for p in found if p.resource_group}, key=str.lower)
    detail = ("resource group " if len(groups) == 1 else "resource groups ") + ", ".join(groups) if groups else ""
    return GraphProject(key, found[0].name, _by_label(out), True, detail)


def build_graph(tree: Tree, inventory: PamInventory | None = None) -> tuple[GraphTeam, ...]:
    """Merge the index's team -> project -> server counts with the OPA inventory.

    Without an inventory the graph is the recordings' names. With one, the configured team's
    projects and servers are matched by name (case-insensitively; a server by hostname or
    canonical name) and labelled as OPA spells them; enrolled servers without recordings join
    with zero sessions; recorded servers OPA does not know stay, marked as unknown. Other teams
    in the recordings are shown as they are.
    """
    teams = [GraphTeam(t, t, _plain(projects)) for t, projects in tree.items()]
    if inventory is None:
        return _by_label(teams)
    wanted = inventory.team.lower()
    teams = [t for t in teams if t.key.lower() != wanted]
    recorded = {t.lower(): t for t in tree}
    key = recorded.get(wanted, "")
    projects = tree.get(key, {}) if key else {}
    found: dict[str, list[PamProject]] = {}
    for p in inventory.projects:
        found.setdefault(p.name.lower(), []).append(p)
    names = {p.lower(): p for p in projects}
    merged = []
    for lname in set(names) | set(found):
        pkey = names.get(lname, "")
        merged.append(_enriched_project(pkey, projects.get(pkey, {}) if pkey else {}, found.get(lname, [])))
    teams.append(GraphTeam(key, inventory.team, _by_label(merged), True))
    return _by_label(teams)
