"""The search page: `GET /search?q=...&in=all|typed|shown&page=N` (signed-in users only).

Each result is a session with its number of matching lines and the first hits; a hit links to
the player at the hit's time (`/play?id=...&t=<recorded s>&tc=<player-clock s>`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from lab.viewer.auth import login_required
from lab.viewer.pages import page_number, query_link
from lab.viewer.search import WHERE, Hit, Result, SearchError

if TYPE_CHECKING:
    from lab.viewer.app import Viewer

MAX_QUERY = 200
MAX_PAGE = 10**6


def clock(seconds: float) -> str:
    """`m:ss` or `h:mm:ss` for a time in a recording."""
    s = int(seconds)
    h, rest = divmod(s, 3600)
    m, sec = divmod(rest, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


def play_link(rid: str, hit: Hit) -> str:
    return f"/play?id={quote(rid, safe='')}&t={hit.t:g}&tc={hit.tc:g}"


@login_required
async def search_page(request: Request) -> Response:
    viewer: Viewer = request.app.state.viewer
    search = viewer.search
    text = str(request.query_params.get("q", ""))[:MAX_QUERY]
    where = request.query_params.get("in", "all")
    where = where if where in WHERE else "all"
    page = page_number(request.query_params, MAX_PAGE)
    result: Result | None = None
    problem = ""
    if search is not None and text.strip():
        try:
            result = await run_in_threadpool(search.search, text, where, page)
        except SearchError as exc:
            problem = str(exc)

    return viewer.render(
        request,
        "search.html",
        q=text,
        where=where,
        result=result,
        problem=problem,
        status_info=search.status if search is not None else None,
        marked=search.marked() if search is not None else [],
        link=query_link("/search", {"q": text, "in": where}),
        play_link=play_link,
        clock=clock,
    )
