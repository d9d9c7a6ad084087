"""Request handlers: health, sign-in, dashboard, list, playback, media, graph."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    JSONResponse,
    MalformedRangeHeader,
    PlainTextResponse,
    RangeNotSatisfiable,
    RedirectResponse,
    Response,
)

from lab.viewer.asciicast import InvalidCast, inspect
from lab.viewer.auth import current_user, login_required, password_ok, safe_next, sign_in, sign_out
from lab.viewer.index import DEFAULT_PER_PAGE, FACETS, MAX_PER_PAGE, PER_PAGE_CHOICES, SORTS, Query, Snapshot
from lab.viewer.media import link_lifetime, video_seconds
from lab.viewer.names import Recording, parse, valid_id
from lab.viewer.pam import GraphProject, GraphTeam, build_graph
from lab.viewer.search import Status
from lab.viewer.security import csrf_ok, csrf_token, login_key
from lab.viewer.storage import NotFound, StorageError
from lab.viewer.timerange import BadTime, Bound, minute_input, parse_bound, utc_label, zone

if TYPE_CHECKING:
    from lab.viewer.app import Viewer

MAX_PAGE = 10**9
TICK = timedelta(microseconds=1)
DAYS_SHOWN = 60  # the per-day chart: at most this many days, up to the latest recording
log = logging.getLogger("lab.viewer.pages")


def _viewer(request: Request) -> Viewer:
    viewer: Viewer = request.app.state.viewer
    return viewer


def filesize(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


# -- health and sign-in ---------------------------------------------------------------------


async def health(request: Request) -> Response:
    """200 when the app and its storage work, 503 with the reason when not."""
    viewer = _viewer(request)
    try:
        await run_in_threadpool(viewer.storage.check)
    except StorageError as exc:
        return JSONResponse({"status": "unavailable", "reason": str(exc)}, status_code=503)
    snap = viewer.index.snapshot
    body = {
        "status": "ok",
        "storage": viewer.storage.describe(),
        "recordings": len(snap.recordings),
        "indexed_at": snap.built_at.isoformat() if snap.built_at else None,
    }
    if viewer.search is not None:
        body["search"] = search_health(viewer.search.status)
    return JSONResponse(body)


def search_health(status: Status) -> dict[str, object]:
    """The search index's part of `/health`: `state` is `ok`, `building` or `error` (then
    `error` says why); `indexed` and `pending` count recordings. A search index that cannot be
    written does not make the viewer unhealthy (it still lists and plays), so it stays 200."""
    state = "error" if status.error else "building" if status.building or status.pending else "ok"
    out: dict[str, object] = {"state": state, "indexed": status.indexed, "pending": status.pending}
    if status.error:
        out["error"] = status.error
    return out


async def login_page(request: Request) -> Response:
    viewer = _viewer(request)
    if viewer.oidc is not None and request.query_params.get("start"):
        return await viewer.oidc.login(request)
    wanted = safe_next(request.query_params.get("next"))
    if current_user(request):
        return RedirectResponse(wanted, status_code=303)
    error = "Sign-in failed. Try again." if request.query_params.get("error") else ""
    return viewer.render(request, "login.html", error=error, next=wanted)


async def login_submit(request: Request) -> Response:
    viewer = _viewer(request)
    if viewer.settings.auth != "local":
        return PlainTextResponse("local sign-in is disabled", status_code=404)
    form = await request.form()
    wanted = safe_next(form.get("next"))
    user, password = str(form.get("username", ""))[:200], str(form.get("password", ""))
    key = login_key(request, viewer.settings.proxy_networks, viewer.devices, user)
    wait = viewer.login_limit.wait(key)
    if wait:
        resp = viewer.render(
            request,
            "login.html",
            status=429,
            error=f"Too many sign-in attempts. Try again in {math.ceil(wait)} seconds.",
            next=wanted,
        )
        resp.headers["Retry-After"] = str(math.ceil(wait))
        return resp
    if not csrf_ok(request, form.get("csrf")):
        return viewer.render(
            request, "login.html", status=400, error="The form expired. Please try again.", next=wanted
        )
    if not password_ok(viewer.settings, user, password):
        viewer.login_limit.hit(key)
        return viewer.render(request, "login.html", status=401, error="Invalid username or password.", next=wanted)
    sign_in(request, user)
    csrf_token(request)
    done = RedirectResponse(wanted, status_code=303)
    done.set_cookie(
        viewer.devices.name,
        viewer.devices.issue(user),
        max_age=viewer.devices.max_age,
        httponly=True,
        samesite="strict",
        secure=viewer.settings.secure_cookies,
    )
    return done


async def oidc_callback(request: Request) -> Response:
    viewer = _viewer(request)
    if viewer.oidc is None:
        return viewer.error(request, 404, "There is no page at this address.", "Page not found")
    return await viewer.oidc.callback(request)


async def logout(request: Request) -> Response:
    viewer = _viewer(request)
    form = await request.form()
    if not csrf_ok(request, form.get("csrf")):
        return viewer.error(request, 400, "The form expired (invalid or missing CSRF token); go back and try again.")
    if viewer.oidc is not None:
        return await viewer.oidc.logout(request)
    sign_out(request)
    return RedirectResponse("/login", status_code=303)


# -- pages ----------------------------------------------------------------------------------


def _bars(counter: dict[str, int], limit: int = 10) -> list[tuple[str, int, float]]:
    top = sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
    peak = max((n for _, n in top), default=1)
    return [(k, n, n / peak) for k, n in top]


def _days(snap: Snapshot, limit: int = 60) -> list[tuple[str, int, float]]:
    """Sessions per day for the last `limit` days that have any, gaps filled with zero."""
    if not snap.by_day:
        return []
    last = date.fromisoformat(max(snap.by_day))
    first = max(date.fromisoformat(min(snap.by_day)), last - timedelta(days=limit - 1))
    days = [(first + timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]
    counts = [(d, snap.by_day.get(d, 0)) for d in days]
    peak = max((n for _, n in counts), default=1) or 1
    return [(d, n, n / peak) for d, n in counts]


@login_required
async def dashboard(request: Request) -> Response:
    viewer = _viewer(request)
    snap = viewer.index.snapshot
    breakdowns = {f: _bars(snap.facets.get(f, {})) for f in FACETS}
    protocols: dict[str, int] = dict(snap.facets.get("protocol", {}))
    totals = {
        "recordings": len(snap.recordings),
        "ssh": protocols.get("ssh", 0),
        "rdp": protocols.get("rdp", 0),
        "teams": len(snap.facets.get("team", {})),
        "servers": len(snap.facets.get("server", {})),
        "users": len(snap.facets.get("user", {})),
        "unparsed": snap.unparsed,
        "size": snap.total_size,
    }
    recent = list(snap.recordings[:8])
    days = _days(snap, DAYS_SHOWN)
    return viewer.render(
        request,
        "dashboard.html",
        totals=totals,
        breakdowns=breakdowns,
        days=days,
        days_shown=DAYS_SHOWN,
        days_clipped=bool(days) and days[0][0] > min(snap.by_day),
        recent=recent,
    )


def _int(text: str | None, default: int, lo: int, hi: int) -> int:
    try:
        value = int(str(text)) if text not in (None, "") else default
    except ValueError:
        return default
    return min(max(value, lo), hi)


def page_number(params: Any, hi: int = MAX_PAGE) -> int:
    """The `page` parameter, 1 when missing or not a number, clamped to 1..hi."""
    return _int(params.get("page"), 1, 1, hi)


def query_link(path: str, base: dict[str, str]) -> Callable[..., str]:
    """`link(page=2, sort="user")`: this page's URL with the given parameters changed."""

    def link(**changes: Any) -> str:
        return f"{path}?" + urlencode({**base, **{k: str(v) for k, v in changes.items()}})

    return link


def per_page(params: Any, notes: list[str]) -> int:
    """The page size: a whole number from 1 to MAX_PER_PAGE, for the list and the API alike;
    anything else is a note (400 in the API) and the default."""
    text = params.get("per_page")
    if text in (None, ""):
        return DEFAULT_PER_PAGE
    try:
        value = int(str(text))
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_PER_PAGE:
        notes.append(f"per_page must be a whole number from 1 to {MAX_PER_PAGE}, not {str(text)[:20]!r}.")
        return DEFAULT_PER_PAGE
    return value


def _bound(params: Any, name: str, tz: tzinfo, notes: list[str]) -> Bound | None:
    text = str(params.get(name) or "")[:80]
    if not text:
        return None
    try:
        return parse_bound(text, tz)
    except BadTime as exc:
        notes.append(f"Ignored the {name} time {text!r}: {exc}.")
        return None


def parse_range(params: Any, notes: list[str]) -> tuple[datetime | None, datetime | None, tzinfo]:
    """`from`/`to` as exact UTC instants (start inclusive, end exclusive) and the zone `tz`
    that times without an offset were read in (UTC when not given)."""
    name = str(params.get("tz") or "")
    tz = zone(name)
    if tz is None:
        notes.append(f"Unknown time zone {name[:64]!r}; times read as UTC.")
        tz = UTC
    first, last = _bound(params, "from", tz, notes), _bound(params, "to", tz, notes)
    if first and last and first.start >= last.end:
        notes.append(
            f"The from time {utc_label(first.start)} is after the to time {utc_label(last.end - TICK)}, "
            "so nothing can match: swap them."
        )
    return (first.start if first else None), (last.end if last else None), tz


def parse_query(params: Any) -> tuple[Query, list[str]]:
    """Turn query parameters into a Query; bad values are dropped with a note for the page."""
    notes: list[str] = []
    filters = tuple((f, str(params.get(f))[:200]) for f in FACETS if params.get(f))
    sort = params.get("sort", "started")
    if sort not in SORTS:
        notes.append(f"Unknown sort column {str(sort)[:40]!r}; sorted by start time.")
        sort = "started"
    size = per_page(params, notes)
    start, end, _ = parse_range(params, notes)
    query = Query(
        q=str(params.get("q", ""))[:200],
        filters=filters,
        start=start,
        end=end,
        sort=sort,
        descending=params.get("order", "desc") != "asc",
        page=page_number(params),
        per_page=size,
    )
    return query, notes


def range_view(query: Query, tz: tzinfo) -> dict[str, str]:
    """What the list form shows: the bounds in the user's zone (minutes) and in UTC."""
    view = {}
    for name, instant in (("from", query.start), ("to", query.end - TICK if query.end else None)):
        view[name] = minute_input(instant, tz) if instant else ""
        view[f"{name}_utc"] = utc_label(instant) if instant else ""
        view[f"{name}_iso"] = instant.astimezone(UTC).isoformat() if instant else ""
    return view


@login_required
async def session_list(request: Request) -> Response:
    viewer = _viewer(request)
    snap = viewer.index.snapshot
    query, notes = parse_query(request.query_params)
    page = await run_in_threadpool(snap.query, query)
    for facet, value in page.unknown:
        notes.append(f"No recordings have {facet} {value!r}.")
    base = {k: v for k, v in request.query_params.items() if k != "page" and v}
    _, _, tz = parse_range(request.query_params, [])
    return viewer.render(
        request,
        "list.html",
        page=page,
        query=query,
        params=base,
        notes=notes,
        facets={f: snap.values(f) for f in FACETS},
        sorts=SORTS,
        per_page_choices=PER_PAGE_CHOICES,
        max_per_page=MAX_PER_PAGE,
        range=range_view(query, tz),
        link=query_link("/sessions", base),
    )


async def _recording(viewer: Viewer, rid: str) -> Recording:
    """The recording for a validated id: from the index, else straight from storage."""
    rec = viewer.index.snapshot.get(rid)
    if rec is not None:
        return rec
    obj = await run_in_threadpool(viewer.storage.stat, rid)
    return parse(obj.key, obj.size, obj.mtime)


def _limited(viewer: Viewer, request: Request) -> Response | None:
    wait = viewer.playback_limit.hit(f"play:{current_user(request)}")
    if not wait:
        return None
    resp = viewer.error(request, 429, "Too many playback requests; wait a moment and try again.", "Slow down")
    resp.headers["Retry-After"] = str(math.ceil(wait))
    return resp


async def _lookup(viewer: Viewer, request: Request) -> Recording | Response:
    rid = request.query_params.get("id", "")
    if not valid_id(rid):
        return viewer.error(request, 400, "This is not a valid recording id.", "Invalid recording id")
    limited = _limited(viewer, request)
    if limited is not None:
        return limited
    try:
        return await _recording(viewer, rid)
    except NotFound:
        return viewer.error(request, 404, "There is no recording with this id (it may have been removed).")
    except StorageError as exc:
        return viewer.error(request, 503, f"Storage is unreachable: {exc}")


@login_required
async def play(request: Request) -> Response:
    viewer = _viewer(request)
    found = await _lookup(viewer, request)
    if isinstance(found, Response):
        return found
    rec = found
    cast_error, info = "", None
    try:
        if rec.kind == "cast":
            head = await run_in_threadpool(viewer.storage.read_head, rec.id, 65536)
            try:
                info = inspect(head)
            except InvalidCast as exc:
                cast_error = f"This file is not a valid asciicast recording: {exc}."
        elif rec.size == 0:
            cast_error = (
                "This video is empty (0 bytes): its export did not finish or failed, so there is nothing to play."
            )
        parts = []
        for pid in rec.parts or (rec.id,):
            direct = await _presign(viewer, pid, rec.kind)
            fresh = f"/media?id={quote(pid, safe='')}"
            parts.append({"id": pid, "url": direct or fresh, "fresh": fresh, "name": pid.rsplit("/", 1)[-1],
                          "download": f"/download?id={quote(pid, safe='')}"})  # fmt: skip
    except NotFound:
        return viewer.error(request, 404, "There is no recording with this id (it may have been removed).")
    except StorageError as exc:
        return viewer.error(request, 503, f"Storage is unreachable: {exc}")
    media_url = parts[0]["url"]
    return viewer.render(
        request,
        "play.html",
        status=422 if cast_error else 200,
        rec=rec,
        info=info,
        cast_error=cast_error,
        media_url=media_url,
        parts=parts,
        download_url=parts[0]["download"],
    )


async def _presign(viewer: Viewer, rid: str, kind: str, download: bool = False) -> str | None:
    """A presigned link, or None for a local folder. A video's link outlives the video: its
    length is read from the file's header (one ranged read)."""
    direct = await run_in_threadpool(viewer.storage.presign, rid, download=download)
    if direct is None or kind != "video" or download:
        return direct
    head = await run_in_threadpool(viewer.storage.read_head, rid, 65536)
    seconds = link_lifetime(viewer.settings.presign_seconds, video_seconds(head))
    return await run_in_threadpool(lambda: viewer.storage.presign(rid, seconds=seconds))


def _range_problem(request: Request, size: int) -> tuple[int, str] | None:
    """(status, message) when the Range header cannot be served (RFC 9110 §14.2, §15.5.17)."""
    header = request.headers.get("range")
    if header is None or request.headers.get("if-range") is not None:
        return None
    try:
        FileResponse._parse_range_header(header, size)
    except MalformedRangeHeader:
        return 400, "The requested byte range is malformed."
    except RangeNotSatisfiable:
        return 416, f"The requested byte range is outside the recording ({size} bytes)."
    return None


async def _serve(request: Request, download: bool) -> Response:
    viewer = _viewer(request)
    found = await _lookup(viewer, request)
    if isinstance(found, Response):
        return found
    rec = found
    if rec.id != request.query_params["id"]:  # one part of a session in parts: serve that part
        rec = parse(request.query_params["id"], rec.size)
    back = f"/play?id={quote(rec.id, safe='')}"
    try:
        direct = await _presign(viewer, rec.id, rec.kind, download=download)
        if direct:
            return RedirectResponse(direct, status_code=302)
        path = viewer.storage.local_path(rec.id)
    except NotFound:
        return viewer.error(request, 404, "There is no recording with this id (it may have been removed).")
    except StorageError as exc:
        return viewer.error(request, 503, f"Storage is unreachable: {exc}")
    if path is None or not path.is_file():
        return viewer.error(request, 404, "There is no recording with this id (it may have been removed).")
    problem = _range_problem(request, path.stat().st_size)
    if problem is not None:
        status, message = problem
        resp = viewer.error(request, status, message, "Cannot serve this part of the recording", back=back)
        if status == 416:
            resp.headers["Content-Range"] = f"bytes */{path.stat().st_size}"
        return resp
    return FileResponse(
        path,
        media_type=rec.media_type,
        filename=rec.name if download else None,
        content_disposition_type="attachment" if download else "inline",
    )


@login_required
async def media(request: Request) -> Response:
    """The recording bytes for the player (HTTP range requests supported, RFC 9110 §14)."""
    return await _serve(request, download=False)


@login_required
async def download(request: Request) -> Response:
    return await _serve(request, download=True)


GRAPH_ROWS = 300  # server rows one graph page draws; more are collapsed or paged


@login_required
async def graph(request: Request) -> Response:
    """Team -> project -> server from the index, enriched from Okta PAM when configured.

    Small estates are drawn whole. Past GRAPH_ROWS server rows the page shows teams and projects
    only (servers counted, not drawn), and `?team=KEY` draws one team, its projects paged so a
    page holds at most GRAPH_ROWS servers.
    """
    viewer = _viewer(request)
    tree = viewer.index.snapshot.tree
    state = viewer.pam.state if viewer.pam is not None else None
    try:
        teams = build_graph(tree, state.inventory if state else None)
    except Exception as exc:  # the enrichment must never cost the page: fall back to names
        log.error("graph enrichment failed: %s", type(exc).__name__)
        teams = build_graph(tree)
    notes: list[str] = []
    wanted = request.query_params.get("team")
    ctx: dict[str, Any] = {"mode": "full", "team": None, "page": 1, "pages": 1}
    if wanted is not None:
        chosen = next((t for t in teams if _team_key(t) == wanted), None)
        if chosen is None:
            notes.append(f"There is no team {wanted[:80]!r}; showing all teams.")
        else:
            chunks = _project_pages(chosen.projects, GRAPH_ROWS)
            page = page_number(request.query_params, len(chunks))
            teams = (replace(chosen, projects=chunks[page - 1]),)
            ctx = {"mode": "team", "team": chosen, "page": page, "pages": len(chunks)}
    if ctx["mode"] == "full" and _rows(teams) > GRAPH_ROWS:
        ctx["mode"] = "overview"
    layout = graph_layout(teams, servers=ctx["mode"] != "overview")
    return viewer.render(
        request, "graph.html", teams=teams, layout=layout, pam=state, notes=notes, team_key=_team_key, **ctx
    )


def _team_key(team: GraphTeam) -> str:
    return team.key or team.label


def _rows(teams: tuple[GraphTeam, ...]) -> int:
    return sum(max(1, len(p.servers)) for t in teams for p in t.projects)


def _project_pages(projects: tuple[GraphProject, ...], rows: int) -> list[tuple[GraphProject, ...]]:
    """Consecutive runs of projects holding at most `rows` server rows each (a bigger project
    gets a page of its own)."""
    pages: list[tuple[GraphProject, ...]] = []
    current: list[GraphProject] = []
    used = 0
    for project in projects:
        n = max(1, len(project.servers))
        if current and used + n > rows:
            pages.append(tuple(current))
            current, used = [], 0
        current.append(project)
        used += n
    if current or not pages:
        pages.append(tuple(current))
    return pages


def graph_layout(teams: tuple[GraphTeam, ...], row: int = 26, servers: bool = True) -> dict[str, Any]:
    """Positions for an SVG of three columns (team -> project -> server) joined by lines.

    Servers take one row each (a project without servers takes one itself); a project sits at
    the middle of its servers, a team at the middle of its projects. With `servers=False` the
    projects are the last column and say how many servers they have.
    """
    cols = (10, 290, 570)
    width = 250
    nodes: list[dict[str, Any]] = []
    edges: list[tuple[int, float, int, float]] = []
    y = 20.0
    for team in teams:
        project_ys = []
        for project in team.projects:
            server_ys = []
            for server in project.servers if servers else ():
                nodes.append(_node(cols[2], y, server.label, server.sessions, server.pam, server.detail))
                server_ys.append(y)
                y += row
            py = sum(server_ys) / len(server_ys) if server_ys else y
            if not server_ys:
                y += row
            node = _node(cols[1], py, project.label, project.sessions, project.pam, project.detail)
            if not servers:
                count = len(project.servers)
                node["text"] = f"{node['text']} · {count} server{'' if count == 1 else 's'}"
            nodes.append(node)
            edges.extend((cols[1] + width, py, cols[2], sy) for sy in server_ys)
            project_ys.append(py)
        ty = sum(project_ys) / len(project_ys) if project_ys else y
        nodes.append(_node(cols[0], ty, team.label, team.sessions, team.pam, ""))
        edges.extend((cols[0] + width, ty, cols[1], py) for py in project_ys)
        y += row / 2
    view = cols[2] + width + 10 if servers else cols[1] + width + 10
    return {"nodes": nodes, "edges": edges, "height": int(y + row), "width": width, "row": row, "view_width": view}


def _node(x: int, y: float, label: str, n: int, pam: bool | None, detail: str) -> dict[str, Any]:
    """One box: `empty` when nothing was recorded there, `unknown` when OPA does not know it."""
    marks = ["empty"] if n == 0 else []
    if pam is False:
        marks.append("unknown")
    text = f"{label} (no recordings)" if n == 0 else f"{label} ({n})"
    tip = " · ".join(part for part in (label, detail, "not in Okta Privileged Access" if pam is False else "") if part)
    return {"x": x, "y": y, "label": label, "n": n, "text": text, "marks": " ".join(marks), "title": tip}


async def refresh(request: Request) -> Response:
    viewer = _viewer(request)
    if current_user(request) is None:
        return PlainTextResponse("authentication required", status_code=401)
    form = await request.form()
    if not csrf_ok(request, form.get("csrf")):
        return viewer.error(request, 400, "The form expired (invalid or missing CSRF token); go back and try again.")
    viewer.index.request_refresh()
    if viewer.pam is not None:
        viewer.pam.request_refresh()
    back = str(form.get("back", ""))[:2000]
    target = safe_next(f"/sessions?{back}" if back else "/sessions")
    return RedirectResponse(target if target.startswith("/sessions") else "/sessions", status_code=303)
