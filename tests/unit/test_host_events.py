"""Turning ansible-runner events into progress lines, summaries and failure messages."""

from __future__ import annotations

import pytest

from lab.errors import TargetError
from lab.host.ansible import Idempotence, RunSummary, TaskEvent, _Collector, _host_stats, raise_for


def ev(kind: str, task: str = "Ensure x", host: str = "h1", **res: object) -> dict[str, object]:
    return {"event": kind, "event_data": {"host": host, "task": task, "res": res}}


def test_collects_changes_failures_and_stats() -> None:
    seen: list[TaskEvent] = []
    c = _Collector(seen.append)
    c(ev("runner_on_ok", changed=False))
    c(
        ev(
            "runner_on_ok",
            "Ensure y",
            changed=True,
            diff={"before": "a", "after": "b", "after_header": "/f"},
        )
    )
    c(ev("runner_on_failed", "Ensure z", msg="boom", stderr="E: no such package"))
    c(ev("runner_on_unreachable", host="h2", msg="Failed to connect to the host via ssh"))
    c(
        {
            "event": "playbook_on_stats",
            "event_data": {
                "ok": {"h1": 3},
                "changed": {"h1": 1},
                "failures": {"h1": 1},
                "dark": {"h2": 1},
            },
        }
    )
    assert [e.status for e in seen] == ["ok", "changed", "failed", "unreachable"]
    assert c.changes[0].diff.startswith("--- /f")
    assert c.failures[0].message == "boom | E: no such package"
    stats = {h.host: h for h in _host_stats(c.stats)}
    assert stats["h1"].changed == 1 and stats["h1"].failed == 1 and stats["h2"].unreachable == 1


def test_no_log_hides_the_message_and_diff() -> None:
    c = _Collector(None)
    c(ev("runner_on_failed", msg="password=hunter2", _ansible_no_log=True))
    c(
        ev(
            "runner_on_ok",
            changed=True,
            diff={"before": "s3cret", "after": "x"},
            _ansible_no_log=True,
        )
    )
    assert "hunter2" not in c.failures[0].message
    assert c.changes[0].diff == ""


def test_ignored_failures_are_not_failures() -> None:
    c = _Collector(None)
    c(
        {
            "event": "runner_on_failed",
            "event_data": {"host": "h", "task": "t", "res": {"msg": "x"}, "ignore_errors": True},
        }
    )
    assert not c.failures


def test_raise_for_names_task_host_and_message() -> None:
    s = RunSummary(
        "ldap.yml",
        2,
        1.0,
        False,
        failures=(TaskEvent("h1", "Ensure slapd runs", "failed", "boom"),),
    )
    with pytest.raises(TargetError, match="h1: task 'Ensure slapd runs' failed: boom"):
        raise_for(s)
    raise_for(RunSummary("ldap.yml", 0, 1.0, False))


def test_idempotence_report_lists_what_changed() -> None:
    ok = RunSummary("x.yml", 0, 1.0, False)
    second = RunSummary("x.yml", 0, 1.0, False, changes=(TaskEvent("h1", "Ensure conf", "changed", diff="-a\n+b"),))
    report = Idempotence(ok, second).report()
    assert "changed 1 task(s)" in report and "h1: Ensure conf" in report and "    +b" in report


def test_a_skipped_task_counted_as_changed_is_listed() -> None:
    """Check mode skips `command` handlers with `changed_when: true`, yet the stats count them."""
    c = _Collector(None)
    c(ev("runner_on_skipped", "update ca certificates", changed=True, skipped=True))
    c(ev("runner_on_skipped", "Ensure w", skipped=True))
    assert [e.task for e in c.changes] == ["update ca certificates"]


def test_a_no_log_task_that_changed_is_listed() -> None:
    """no_log censors `res` (its `changed` too); the event's stdout line still says "changed"."""
    c = _Collector(None)
    censored = ev("runner_on_ok", "Preseed the admin password", censored="hidden (no_log)")
    c({**censored, "stdout": "changed: [fresh]"})
    c({**ev("runner_on_ok", "Ensure v", censored="hidden (no_log)"), "stdout": "ok: [fresh]"})
    assert [e.task for e in c.changes] == ["Preseed the admin password"]


def test_a_no_log_loop_that_changed_is_listed() -> None:
    """A censored loop: only its items' lines say "changed", the task's own event says nothing."""
    c = _Collector(None)
    item = ev("runner_item_on_ok", "Preseed the admin password", censored="hidden")
    c({**item, "stdout": "changed: [h1] => (item=(censored due to no_log))"})
    c({**ev("runner_on_ok", "Preseed the admin password", censored="hidden"), "stdout": ""})
    assert [e.task for e in c.changes] == ["Preseed the admin password"]
