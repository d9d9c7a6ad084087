"""The browser libraries the app serves itself under `/player/` (no CDN): the asciinema player
and cytoscape (the interactive graph; optional: without it `/graph/explore` says so).

The image copies them at build time (npm in the Dockerfile); for development and tests
`lab viewer assets` fetches the pinned npm packages with `npm pack` into a cache folder.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

from lab.errors import TargetError

PLAYER_PACKAGE = "asciinema-player"
PLAYER_VERSION = "3.18.0"
FILES = ("asciinema-player.min.js", "asciinema-player.css")
GRAPH_PACKAGE = "cytoscape"
GRAPH_VERSION = "3.35.0"
GRAPH_FILE = "cytoscape.min.js"
# (package, version, {file in the package: name here})
PACKAGES = (
    (PLAYER_PACKAGE, PLAYER_VERSION, {f"package/dist/bundle/{f}": f for f in FILES}),
    (GRAPH_PACKAGE, GRAPH_VERSION, {f"package/dist/{GRAPH_FILE}": GRAPH_FILE}),
)


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "okta-lab" / f"{PLAYER_PACKAGE}-{PLAYER_VERSION}"


def _complete(path: Path) -> bool:
    return all((path / f).is_file() for f in FILES)


def player_dir() -> Path | None:
    """Where the player files are: `LAB_VIEWER_ASSETS`, the image's copy, or the user cache."""
    candidates = [
        os.environ.get("LAB_VIEWER_ASSETS", ""),
        "/usr/share/lab-viewer/player",
        str(cache_dir()),
    ]
    for c in candidates:
        if c and _complete(Path(c)):
            return Path(c)
    return None


def fetch_player(dest: Path | None = None) -> Path:
    """Download the pinned packages with `npm pack` and keep their bundle files in `dest`
    (a package whose files are already there is skipped)."""
    dest = dest or cache_dir()
    missing = [p for p in PACKAGES if not all((dest / name).is_file() for name in p[2].values())]
    if not missing:
        return dest
    npm = shutil.which("npm")
    if npm is None:
        raise TargetError("npm is not installed; install Node.js/npm (apt-get install npm)")
    for package, version, files in missing:
        _fetch(npm, package, version, files, dest)
    return dest


def _fetch(npm: str, package: str, version: str, files: dict[str, str], dest: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.run(
            [npm, "pack", f"{package}@{version}", "--silent"],
            cwd=tmp,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if proc.returncode != 0:
            raise TargetError(f"npm pack {package}@{version} failed: {proc.stderr[-300:]}")
        tgz = next(Path(tmp).glob("*.tgz"))
        dest.mkdir(parents=True, exist_ok=True)
        with tarfile.open(tgz) as tar:
            for member_name, name in files.items():
                data = tar.extractfile(tar.getmember(member_name))
                if data is None:
                    raise TargetError(f"{name} missing from the npm package {package}")
                (dest / name).write_bytes(data.read())
