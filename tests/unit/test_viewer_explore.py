"""The interactive graph page: its data block, list links, and the page without cytoscape."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from lab.viewer.app import create_app
from lab.viewer.explore import graph_json
from lab.viewer.pam import build_graph
from lab.viewer.storage import LocalStorage
from tests.unit.test_viewer_app import login, settings

TREE = {"ops": {"core": {"bastion": 2, "dns": 1}}, "sec</script>": {"web": {"web-01": 4}}}


def test_graph_json_counts_and_links() -> None:
    data = graph_json(build_graph(TREE))
    ops = next(t for t in data if t["label"] == "ops")
    assert ops["n"] == 3 and ops["link"] == "/sessions?team=ops"
    core = ops["projects"][0]
    assert core["n"] == 3 and core["link"] == "/sessions?team=ops&project=core"
    assert [(s["label"], s["n"], s["link"]) for s in core["servers"]] == [
        ("bastion", 2, "/sessions?team=ops&project=core&server=bastion"),
        ("dns", 1, "/sessions?team=ops&project=core&server=dns"),
    ]


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    for team, projects in TREE.items():
        for project, servers in projects.items():
            for server, n in servers.items():
                for i in range(n):
                    name = (
                        f"ssh~20261201T10000{i}.0000~{team.replace('</script>', '<b>')}~{project}~{server}~u~{i}.cast"
                    )
                    (tmp_path / name).write_text('{"version": 2, "width": 80, "height": 24}\n')
    return tmp_path


def page(folder: Path, assets: Path) -> str:
    app = create_app(settings(), LocalStorage(folder), background_index=False, assets=assets)
    with TestClient(app) as c:
        assert login(c) == 303
        r = c.get("/graph/explore")
        assert r.status_code == 200
        return r.text


def test_page_carries_the_graph_as_a_data_block(folder: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    assets = tmp_path_factory.mktemp("assets")
    for name in ("asciinema-player.min.js", "asciinema-player.css", "cytoscape.min.js"):
        (assets / name).write_text("/* stand-in */\n")
    text = page(folder, assets)
    block = re.search(r'<script type="application/json" id="graph-data">(.*?)</script>', text, re.S)
    assert block is not None
    assert "<b>" not in block.group(1)  # tojson escapes < > & ': a name cannot end the block
    data = json.loads(block.group(1))
    assert {t["label"] for t in data} == {"ops", "sec<b>"}
    assert '<script src="/player/cytoscape.min.js"></script><script src="/static/graph.js"></script>' in text
    assert 'id="__________cytoscape_stylesheet"' in text  # so cytoscape adds no inline <style>


def test_page_without_cytoscape_says_how_to_get_it(folder: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    assets = tmp_path_factory.mktemp("assets")
    for name in ("asciinema-player.min.js", "asciinema-player.css"):
        (assets / name).write_text("/* stand-in */\n")
    text = page(folder, assets)
    assert 'id="graph-missing"' in text and "lab viewer assets" in text and "cytoscape.min.js" not in text
