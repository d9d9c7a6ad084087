"""Golden-file tests: each case's `.env` renders exactly to its `expected/` tree.

Regenerate after an intended change with `make golden` (LAB_UPDATE_GOLDEN=1) and review the diff.
"""

from __future__ import annotations

import difflib
import os
import re
import shutil
from pathlib import Path

import pytest
from dotenv import dotenv_values

from lab import RESOURCES
from lab.catalog import load_catalog
from lab.config import LabConfig
from lab.envfile import GENERATED
from lab.render import render_lab

CASES = Path(__file__).parent / "cases"
SKIP = {"build"}  # build contexts are verbatim copies of compose/<service>/


def case_config(case: Path) -> LabConfig:
    """The example with fixed, fake secrets, then the case's overrides."""
    values: dict[str, str] = {}
    for line in (RESOURCES / ".env.example").read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            values[key] = f"golden-{key.lower().replace('_', '-')}-0123456789" if value == GENERATED else value
    # Machine-dependent inputs are pinned so the expected files hold on any machine.
    values.update({"LDAP_CERT_HOSTNAME": "lab-host.example", "LAB_EXTRA_CA_CERTS": "none"})
    values.update({k: v or "" for k, v in dotenv_values(case / ".env").items()})
    return LabConfig.from_mapping(values)


def render_case(case: Path, out: Path) -> None:
    config = case_config(case)
    catalog = load_catalog()
    components = [c for c in catalog.select(config.core.stack_list) if not c.artifact]
    render_lab(config, components, out)


IMAGE_TAG = re.compile(rb"(image: okta-lab/[a-z0-9-]+):[0-9a-f]{12}")


def tree(root: Path) -> dict[str, bytes]:
    """Rendered files, image tags normalised (they hash build contexts, checked separately)."""
    out = {
        str(p.relative_to(root)): IMAGE_TAG.sub(rb"\1:<hash>", p.read_bytes())
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.relative_to(root).parts[0] not in SKIP
    }
    if ".manifest" in out:  # build contexts are skipped above: so are their manifest lines
        lines = out[".manifest"].splitlines(keepends=True)
        out[".manifest"] = b"".join(line for line in lines if not line.startswith(b"build/"))
    return out


@pytest.mark.parametrize("case", sorted(p.name for p in CASES.iterdir() if p.is_dir()))
def test_render_matches_golden(tmp_path: Path, case: str) -> None:
    out = tmp_path / "out"
    render_case(CASES / case, out)
    expected_dir = CASES / case / "expected"
    if os.environ.get("LAB_UPDATE_GOLDEN"):
        shutil.rmtree(expected_dir, ignore_errors=True)
        for rel, data in tree(out).items():
            (expected_dir / rel).parent.mkdir(parents=True, exist_ok=True)
            (expected_dir / rel).write_bytes(data)
    got, want = tree(out), tree(expected_dir)
    assert sorted(got) == sorted(want), "rendered file set differs (run `make golden` if intended)"
    for rel in want:
        if got[rel] != want[rel]:
            diff = difflib.unified_diff(
                want[rel].decode(errors="replace").splitlines(),
                got[rel].decode(errors="replace").splitlines(),
                f"expected/{rel}", f"rendered/{rel}", lineterm="",
            )  # fmt: skip
            pytest.fail("\n".join(diff))


def test_rendering_is_deterministic(tmp_path: Path) -> None:
    case = CASES / "default"
    render_case(case, tmp_path / "a")
    render_case(case, tmp_path / "b")
    a = {str(p.relative_to(tmp_path / "a")): p.read_bytes() for p in (tmp_path / "a").rglob("*") if p.is_file()}
    b = {str(p.relative_to(tmp_path / "b")): p.read_bytes() for p in (tmp_path / "b").rglob("*") if p.is_file()}
    assert a == b


def test_image_tags_follow_build_contexts(tmp_path: Path) -> None:
    config = case_config(CASES / "default")
    comps = [c for c in load_catalog().select(["openldap"])]
    first = render_lab(config, comps, tmp_path / "a").images["openldap"]
    assert render_lab(config, comps, tmp_path / "b").images["openldap"] == first
    changed = LabConfig.from_mapping({**config.raw, "LAB_BASE_IMAGE": "debian:bookworm", "LAB_EXTRA_CA_CERTS": "none"})
    assert render_lab(changed, comps, tmp_path / "c").images["openldap"] != first


def test_second_render_changes_nothing(tmp_path: Path) -> None:
    config = case_config(CASES / "default")
    comps = [c for c in load_catalog().select(config.core.stack_list) if not c.artifact]
    first = render_lab(config, comps, tmp_path)
    mtimes = {p: p.stat().st_mtime_ns for p in first.files}
    second = render_lab(config, comps, tmp_path)
    assert second.changed == ()
    assert {p: p.stat().st_mtime_ns for p in second.files} == mtimes


def test_compose_file_stays_within_v1_and_v2(tmp_path: Path) -> None:
    import yaml

    render_case(CASES / "default", tmp_path)
    doc = yaml.safe_load((tmp_path / "compose.yml").read_text())
    assert set(doc) == {"services"}, "no top-level name:, include:, version:"
    for name, svc in doc["services"].items():
        for port in svc.get("ports", []):
            assert port.startswith("127.0.0.1:"), f"{name} publishes {port} beyond loopback"
        assert "healthcheck" in svc, f"{name} has no healthcheck"


def test_every_generated_file_says_so(tmp_path: Path) -> None:
    render_case(CASES / "default", tmp_path)
    for rel, data in tree(tmp_path).items():
        if rel.endswith((".json", ".manifest")) or rel == ".manifest":
            continue
        head = data[:400].decode(errors="replace")
        assert "generated by lab" in head, f"{rel} lacks the generated-by header"
