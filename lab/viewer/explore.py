"""The interactive graph, `/graph/explore`: team -> project -> server drawn by cytoscape in the
browser (pan, zoom, search, collapse/expand, pop-ups with counts and a link to the list).

The page carries the whole graph as JSON in a data block (`<script type="application/json">`,
which the CSP does not treat as script) and `static/graph.js` draws it; servers start collapsed,
so 10,000 recordings (hundreds of servers) open as teams and projects.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from lab.viewer.auth import login_required
from lab.viewer.pam import GraphTeam, build_graph

if TYPE_CHECKING:
    from lab.viewer.app import Viewer

log = logging.getLogger("lab.viewer.explore")


def _list_link(**facets: str) -> str:
    """The recording list filtered to this node, or "" when recordings do not name it."""
    if not all(facets.values()):
        return ""
    return "/sessions?" + urlencode(facets)


def graph_json(teams: tuple[GraphTeam, ...]) -> list[dict[str, Any]]:
    """Teams, their projects and servers with session counts, OPA marks and list links."""
    out = []
    for t in teams:
        projects = []
        for p in t.projects:
            servers = [
                {"label": s.label, "n": s.sessions, "pam": s.pam, "detail": s.detail,
                 "link": _list_link(team=t.key, project=p.key, server=s.key)}
                for s in p.servers
            ]  # fmt: skip
            projects.append({"label": p.label, "n": p.sessions, "pam": p.pam, "detail": p.detail,
                             "link": _list_link(team=t.key, project=p.key), "servers": servers})  # fmt: skip
        out.append({"label": t.label, "n": t.sessions, "pam": t.pam, "link": _list_link(team=t.key),
                    "projects": projects})  # fmt: skip
    return out


@login_required
async def explore(request: Request) -> Response:
    viewer: Viewer = request.app.state.viewer
    state = viewer.pam.state if viewer.pam is not None else None
    try:
        teams = build_graph(viewer.index.snapshot.tree, state.inventory if state else None)
    except Exception as exc:  # the enrichment must never cost the page: fall back to names
        log.error("graph enrichment failed: %s", type(exc).__name__)
        teams = build_graph(viewer.index.snapshot.tree)
    data = graph_json(teams)
    counts = {
        "teams": len(data),
        "projects": sum(len(t["projects"]) for t in data),
        "servers": sum(len(p["servers"]) for t in data for p in t["projects"]),
    }
    return viewer.render(request, "explore.html", data=data, counts=counts, available=viewer.graph_js)
