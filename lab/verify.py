"""`lab verify`: run the testinfra checks in tests/infra against a running lab.

The checks run as a pytest subprocess (so a check can never crash the CLI) and report through
JUnit XML, which `--junit` also keeps for CI.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass
from pathlib import Path

from lab import RESOURCES
from lab.catalog import load_catalog
from lab.context import LabContext
from lab.errors import Problem, UsageError

INFRA = RESOURCES / "tests" / "infra"


@dataclass(frozen=True)
class CheckResult:
    component: str
    name: str
    outcome: str  # passed | failed | error | skipped
    message: str = ""

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


@dataclass(frozen=True)
class VerifyReport:
    results: tuple[CheckResult, ...]
    returncode: int
    hints: tuple[str, ...] = ()  # what to change when checks could not reach a service

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and all(r.outcome in ("passed", "skipped") for r in self.results)

    @property
    def warnings(self) -> bool:
        """A check that skips with a reason starting "warning" (not: "not applicable here")."""
        return any(r.outcome == "skipped" and r.message.lower().startswith("warning") for r in self.results)


def check_files(names: list[str], running: list[str]) -> list[Path]:
    """The check files for stacks/services `names` (default: everything running)."""
    catalog = load_catalog()
    comps = catalog.select(names) if names else [c for c in catalog if c.service in running]
    keys: list[str] = []
    for comp in comps:
        for key in (comp.stack, comp.service):
            if key not in keys:
                keys.append(key)
    files = [INFRA / f"test_{k.replace('-', '_')}.py" for k in keys]
    found = [f for f in files if f.exists()]
    if not found:
        raise UsageError(Problem(f"no checks for {', '.join(names or running) or 'an empty lab'}", "see `lab list`"))
    return found


def run_checks(
    ctx: LabContext,
    names: list[str],
    running: list[str],
    *,
    target: str = "docker",
    junit: Path | None = None,
    extra_args: list[str] | None = None,
    env: dict[str, str] | None = None,
) -> VerifyReport:
    files = check_files(names, running)
    with tempfile.TemporaryDirectory(prefix="lab-verify-") as tmp:
        xml = junit or Path(tmp) / "junit.xml"
        args = [
            sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(INFRA),
            "-c", str(INFRA / "pytest.ini"), f"--junitxml={xml}", "--continue-on-collection-errors",
            *map(str, files), *(extra_args or []),
        ]  # fmt: skip
        run_env = {
            **os.environ,
            "LAB_ROOT": str(ctx.root),
            "LAB_ENV_FILE": str(ctx.env_path),
            "LAB_TARGET": target,
            **(env or {}),
        }
        proc = subprocess.run(args, env=run_env, capture_output=True, text=True, check=False)
        results = _parse_junit(xml) if xml.exists() else ()
        if not results:
            detail = (proc.stdout + proc.stderr).strip().splitlines()[-15:]
            results = (CheckResult("verify", "collect", "error", "\n".join(detail)),)
    return VerifyReport(results, proc.returncode)


def _parse_junit(path: Path) -> tuple[CheckResult, ...]:
    out = []
    for case in ET.parse(path).iter("testcase"):
        module = (case.get("classname", "") or case.get("name", "")).rsplit(".", 1)[-1].removeprefix("test_")
        detail = case.find("properties/property[@name='detail']")
        outcome, message = "passed", detail.get("value", "") if detail is not None else ""
        for kind in ("failure", "error", "skipped"):
            node = case.find(kind)
            if node is not None:
                outcome = "failed" if kind == "failure" else kind
                lines = (node.get("message") or node.text or "").strip().splitlines()
                message = lines[0] if lines else ""
                if kind == "error" and node.text:  # a collection error: its last line says why
                    message = node.text.strip().splitlines()[-1]
                break
        out.append(CheckResult(module, case.get("name", ""), outcome, str(message)[:300]))
    return tuple(out)
