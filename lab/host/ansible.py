"""Run the playbooks through ansible-runner: live per-task events, a per-host summary, failures.

On failure the caller gets the failing task, host and message, not the whole output; the full
event log stays in `.lab/host/runner/artifacts/` for whoever needs it.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lab.errors import Problem, TargetError
from lab.host.render import HostFiles, ansible_env

#: ansible-runner event -> our task status (changed is decided from the result).
_STATUS = {
    "runner_on_ok": "ok",
    "runner_on_failed": "failed",
    "runner_on_unreachable": "unreachable",
    "runner_on_skipped": "skipped",
}


@dataclass(frozen=True)
class TaskEvent:
    """One task finished on one host."""

    host: str
    task: str
    status: str  # ok | changed | failed | unreachable | skipped | ignored
    message: str = ""
    diff: str = ""


@dataclass(frozen=True)
class HostStats:
    host: str
    ok: int = 0
    changed: int = 0
    failed: int = 0
    unreachable: int = 0
    skipped: int = 0


@dataclass(frozen=True)
class RunSummary:
    playbook: str
    rc: int
    seconds: float
    check: bool
    hosts: tuple[HostStats, ...] = ()
    changes: tuple[TaskEvent, ...] = ()
    failures: tuple[TaskEvent, ...] = ()

    @property
    def ok(self) -> bool:
        return self.rc == 0 and not self.failures

    @property
    def changed(self) -> int:
        return sum(h.changed for h in self.hosts)


@dataclass
class _Collector:
    on_event: Callable[[TaskEvent], None] | None
    changes: list[TaskEvent] = field(default_factory=list)
    failures: list[TaskEvent] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)
    changed_items: set[tuple[str, str]] = field(default_factory=set)  # (host, task) with a changed loop item

    def __call__(self, event: dict[str, Any]) -> bool:
        kind = event.get("event", "")
        data = event.get("event_data") or {}
        if kind == "playbook_on_stats":
            self.stats = data
        elif kind == "runner_item_on_ok" and str(event.get("stdout", "")).lstrip().startswith("changed:"):
            self.changed_items.add((str(data.get("host")), str(data.get("task_uuid") or data.get("task"))))
        elif kind in _STATUS:
            item = (str(data.get("host")), str(data.get("task_uuid") or data.get("task")))
            stdout = "changed:" if item in self.changed_items else str(event.get("stdout", ""))
            task = _event_from(kind, data, stdout)
            if task.status == "changed":
                self.changes.append(task)
            elif task.status in ("failed", "unreachable"):
                self.failures.append(task)
            if self.on_event:
                self.on_event(task)
        return True  # keep the event in the artifacts


def run_playbook(
    files: HostFiles,
    playbook: Path,
    *,
    check: bool = False,
    limit: str = "",
    on_event: Callable[[TaskEvent], None] | None = None,
    become_file: Path | None = None,
) -> RunSummary:
    """Run `playbook` against the rendered inventory; never raises for task failures.

    `become_file`: the file holding the sudo password (ANSIBLE_BECOME_PASSWORD_FILE)."""
    import ansible_runner  # heavy: imported only when a run happens

    collector = _Collector(on_event)
    cmdline = ["--check", "--diff"] if check else []
    if limit:
        cmdline += ["--limit", limit]
    private = files.root / "runner"
    private.mkdir(parents=True, exist_ok=True)
    env = {**ansible_env(files), "PATH": _path_with_venv()}
    if become_file is not None:
        env["ANSIBLE_BECOME_PASSWORD_FILE"] = str(become_file)
    started = time.monotonic()
    result = ansible_runner.run(
        private_data_dir=str(private),
        project_dir=str(playbook.parent),
        playbook=str(playbook.resolve()),
        inventory=str(files.inventory.resolve()),
        envvars=env,
        cmdline=" ".join(cmdline) or None,
        event_handler=collector,
        quiet=True,
        rotate_artifacts=3,
        suppress_env_files=True,
    )
    seconds = time.monotonic() - started
    hosts = _host_stats(collector.stats)
    failures = list(collector.failures)
    if result.rc != 0 and not failures:
        failures.append(TaskEvent("-", playbook.name, "failed", _tail(result.stdout.read())))
    return RunSummary(
        playbook=playbook.name,
        rc=int(result.rc or 0),
        seconds=seconds,
        check=check,
        hosts=hosts,
        changes=tuple(collector.changes),
        failures=tuple(failures),
    )


def raise_for(summary: RunSummary) -> None:
    """Turn a failed run into one TargetError: each failing task, host and message."""
    if summary.ok:
        return
    raise TargetError(
        *(Problem(f"{f.host}: task '{f.task}' {f.status}: {f.message}".rstrip(": ")) for f in summary.failures)
    )


@dataclass(frozen=True)
class Idempotence:
    first: RunSummary
    second: RunSummary

    @property
    def changed_on_second(self) -> tuple[TaskEvent, ...]:
        return self.second.changes

    def report(self) -> str:
        lines = [f"second run of {self.second.playbook} changed {len(self.changed_on_second)} task(s):"]
        for t in self.changed_on_second:
            lines.append(f"  {t.host}: {t.task}" + (f"\n{_indent(t.diff)}" if t.diff else ""))
        return "\n".join(lines)


def converge_twice(files: HostFiles, playbook: Path, limit: str = "") -> Idempotence:
    """Converge, then converge again; the caller asserts `changed_on_second` is empty."""
    first = run_playbook(files, playbook, limit=limit)
    raise_for(first)
    second = run_playbook(files, playbook, limit=limit)
    raise_for(second)
    return Idempotence(first, second)


def _event_from(kind: str, data: dict[str, Any], stdout: str = "") -> TaskEvent:
    res = data.get("res") or {}
    status = _STATUS[kind]
    # no_log censors the result, `changed` included: the event's own line still says it
    if "changed" not in res and stdout.lstrip().startswith("changed:"):
        res = {**res, "changed": True}
    # A skipped result can still be counted as changed (check mode skips a command whose
    # `changed_when: true` holds, e.g. a handler): list it, so the list matches the counts.
    if status in ("ok", "skipped") and res.get("changed"):
        status = "changed"
    if status == "failed" and data.get("ignore_errors"):
        status = "ignored"
    message = ""
    if status in ("failed", "unreachable", "ignored"):
        message = _message(res)
    return TaskEvent(
        host=str(data.get("host", "?")),
        task=str(data.get("task", "")).strip() or str(data.get("task_action", "")),
        status=status,
        message=message,
        diff=_diff(res) if status == "changed" else "",
    )


def _message(res: dict[str, Any]) -> str:
    if res.get("_ansible_no_log"):
        return "(output hidden by no_log)"
    parts = [str(res.get("msg", "")).strip()]
    for key in ("stderr", "stdout"):
        text = str(res.get(key, "") or "").strip()
        if text and text not in parts[0]:
            parts.append(_tail(text, 5))
            break
    results = res.get("results")
    if not parts[0] and isinstance(results, list):
        parts = [_message(r) for r in results if isinstance(r, dict) and r.get("failed")][:1]
    return " | ".join(p for p in parts if p) or "failed"


def _diff(res: dict[str, Any]) -> str:
    diffs = res.get("diff")
    if isinstance(diffs, dict):
        diffs = [diffs]
    if not isinstance(diffs, list) or res.get("_ansible_no_log"):
        return ""
    out = []
    for d in diffs:
        if not isinstance(d, dict):
            continue
        if d.get("prepared"):
            out.append(str(d["prepared"]).rstrip())
        elif "before" in d or "after" in d:
            header = d.get("after_header") or d.get("before_header") or ""
            out.append(f"--- {header}\n-{d.get('before', '')!s}\n+{d.get('after', '')!s}".rstrip())
    return "\n".join(out)[:4000]


def _host_stats(stats: dict[str, Any]) -> tuple[HostStats, ...]:
    names: set[str] = set()
    for key in ("ok", "changed", "failures", "dark", "skipped"):
        names.update((stats.get(key) or {}).keys())
    return tuple(
        HostStats(
            host=h,
            ok=(stats.get("ok") or {}).get(h, 0),
            changed=(stats.get("changed") or {}).get(h, 0),
            failed=(stats.get("failures") or {}).get(h, 0),
            unreachable=(stats.get("dark") or {}).get(h, 0),
            skipped=(stats.get("skipped") or {}).get(h, 0),
        )
        for h in sorted(names)
    )


def _path_with_venv() -> str:
    """ansible-playbook lives next to this interpreter; make sure the runner finds that one."""
    bindir = str(Path(sys.executable).parent)
    return os.pathsep.join([bindir, os.environ.get("PATH", "")])


def _tail(text: str, lines: int = 8) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())
