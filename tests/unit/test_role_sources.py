"""The scim role installs its source as one deterministic tarball (not file by file)."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
from pathlib import Path

import yaml

from lab import RESOURCES

ROLE = RESOURCES / "roles" / "scim"
SCRIPT = ROLE / "files" / "source_tarball.py"


def _patterns() -> list[str]:
    internals = yaml.safe_load((ROLE / "vars" / "main.yml").read_text())
    return [*internals["__scim_base_files"], *internals["__scim_source_patterns"]]


def _pack(source: Path, dest: Path) -> str:
    r = subprocess.run(
        [sys.executable, str(SCRIPT), str(source), str(dest), *_patterns()], capture_output=True, text=True, check=False
    )
    assert r.returncode == 0, r.stderr
    return r.stdout.split()[0]


def test_the_tarball_depends_on_paths_and_contents_only(tmp_path: Path) -> None:
    dest = tmp_path / "a" / "scim-src.tar.gz"
    assert _pack(RESOURCES, dest) == "changed"
    first = dest.read_bytes()
    before = dest.stat().st_mtime_ns
    assert _pack(RESOURCES, dest) == "unchanged" and dest.stat().st_mtime_ns == before  # not rewritten
    with tarfile.open(dest) as tar:
        members = tar.getmembers()
    copy = tmp_path / "copy"
    for rel in {m.name for m in members if m.isfile()}:
        (copy / rel).parent.mkdir(parents=True, exist_ok=True)
        (copy / rel).write_bytes((RESOURCES / rel).read_bytes())
        os.utime(copy / rel, (1, 1))  # other times, same contents: the same bytes
    other = tmp_path / "b.tar.gz"
    _pack(copy, other)
    assert other.read_bytes() == first
    names = [m.name for m in members]
    assert {"pyproject.toml", "lab/errors.py", "lab/data/operations.yaml", "lab/scim/app.py"} <= set(names)
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    assert {(m.uid, m.gid, m.mtime) for m in members} == {(0, 0, 0)} and names == sorted(names, key=_order(members))


def _order(members: list[tarfile.TarInfo]) -> object:
    folders = [m.name for m in members if m.isdir()]
    return lambda n: (n not in folders, n)


def test_a_pattern_that_matches_nothing_is_an_error(tmp_path: Path) -> None:
    r = subprocess.run(
        [sys.executable, str(SCRIPT), str(tmp_path), str(tmp_path / "x.tgz"), "lab/nope/*.py"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert r.returncode != 0 and "matches no file" in r.stderr and not (tmp_path / "x.tgz").exists()


def test_the_role_copies_one_tarball_not_one_file_per_task_item() -> None:
    tasks = yaml.safe_load((ROLE / "tasks" / "install.yml").read_text())
    copies = [t for t in tasks if "ansible.builtin.copy" in t]
    assert len(copies) == 1 and copies[0]["ansible.builtin.copy"]["src"] == "{{ __scim_tarball_local }}"
    assert not [t for t in tasks if "loop" in t and ("ansible.builtin.copy" in t or "ansible.builtin.find" in t)]
