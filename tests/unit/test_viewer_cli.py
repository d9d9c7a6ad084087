"""`lab viewer seed|sync` through the real CLI: output, idempotence, exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ENV = "VIEWER_ADMIN_PASSWORD=cli-test-password\nVIEWER_SESSION_SECRET=" + "c" * 48 + "\n"


def lab(root: Path, *args: str, path: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **({"PATH": path} if path is not None else {})}
    return subprocess.run(
        [sys.executable, "-m", "lab", "-C", str(root), *args], capture_output=True, text=True, env=env, check=False
    )


def test_seed_twice_writes_once(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(ENV)
    first = lab(tmp_path, "viewer", "seed", "--count", "4", "--json")
    assert first.returncode == 0, first.stderr
    assert len(json.loads(first.stdout)["written"]) == 4
    again = json.loads(lab(tmp_path, "viewer", "seed", "--count", "4", "--json").stdout)
    assert again == {"written": [], "skipped": 4}
    assert len(list((tmp_path / "data" / "recordings").glob("ssh~*.cast"))) == 4


def test_sync_without_sft_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(ENV)
    (tmp_path / "asa").mkdir()
    r = lab(tmp_path, "viewer", "sync", "--source", str(tmp_path / "asa"), path=str(Path(sys.executable).parent))
    assert r.returncode == 1
    assert "`sft` is not installed" in r.stderr and "Traceback" not in r.stderr


def test_bad_config_exits_2_and_names_the_key(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(ENV + "VIEWER_STORAGE=s3\n")
    r = lab(tmp_path, "viewer", "seed")
    assert r.returncode == 2 and "VIEWER_S3_BUCKET" in r.stderr
    assert "cli-test-password" not in r.stderr + r.stdout
