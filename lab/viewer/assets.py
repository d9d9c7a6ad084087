"""The asciinema player files, served by the app itself (no CDN).

The image copies them at build time (npm in the Dockerfile); for development and tests
`lab viewer assets` fetches the pinned npm package with `npm pack` into a cache folder.
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
    """Download the pinned player with `npm pack` and keep the two bundle files in `dest`."""
    dest = dest or cache_dir()
    if _complete(dest):
        return dest
    npm = shutil.which("npm")
    if npm is None:
        raise TargetError("npm is not installed; install Node.js/npm (apt-get install npm)")
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.run(
            [npm, "pack", f"{PLAYER_PACKAGE}@{PLAYER_VERSION}", "--silent"],
            cwd=tmp,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if proc.returncode != 0:
            raise TargetError(f"npm pack {PLAYER_PACKAGE}@{PLAYER_VERSION} failed: {proc.stderr[-300:]}")
        tgz = next(Path(tmp).glob("*.tgz"))
        dest.mkdir(parents=True, exist_ok=True)
        with tarfile.open(tgz) as tar:
            for name in FILES:
                member = tar.getmember(f"package/dist/bundle/{name}")
                data = tar.extractfile(member)
                if data is None:
                    raise TargetError(f"{name} missing from the npm package")
                (dest / name).write_bytes(data.read())
    return dest
