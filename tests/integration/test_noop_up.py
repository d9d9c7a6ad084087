"""A no-op `lab up` on a real engine: answered from the fingerprint, and never when a service is down
or an input changed."""

from __future__ import annotations

import subprocess
from typing import Any

import pytest

from tests.conftest import LabHandle

pytestmark = pytest.mark.docker

NOOP = "nothing changed since the last `lab up`"


def container(handle: LabHandle, service: str) -> str:
    project = handle.cfg.core.project
    out = subprocess.run(
        ["docker", "ps", "-aq", "--filter", f"label=com.docker.compose.project={project}",
         "--filter", f"label=com.docker.compose.service={service}"],
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    assert len(out) == 1, out
    return out[0]


def running(cid: str) -> bool:
    out = subprocess.run(["docker", "inspect", "-f", "{{.State.Running}}", cid], capture_output=True, text=True)
    return out.stdout.strip() == "true"


def test_noop_up_is_answered_from_the_fingerprint_until_something_changes(make_lab: Any) -> None:
    lab = make_lab(["ldap"], up=False)
    first = lab.up("openldap")
    assert NOOP not in first.stdout
    assert (lab.dir / ".lab" / "fingerprint.json").exists()
    state_before = (lab.dir / ".lab" / "lab.json").read_text()

    again = lab.up("openldap")
    assert NOOP in again.stdout, again.stdout
    assert "Bind DN" in again.stdout and "********" in again.stdout  # the card, secrets hidden
    assert (lab.dir / ".lab" / "lab.json").read_text() == state_before  # nothing rewritten

    # a stopped container is never skipped: the full run starts it again
    cid = container(lab, "openldap")
    subprocess.run(["docker", "stop", cid], check=True, capture_output=True)
    restarted = lab.up("openldap")
    assert NOOP not in restarted.stdout
    assert running(cid)
    assert NOOP in lab.up("openldap").stdout

    # other arguments, then a changed .env: the full run each time
    assert NOOP not in lab.up("openldap", "openldap").stdout
    env = lab.dir / ".env"
    env.write_text(env.read_text() + "\n# .env changed (even a comment): the full run decides\n")
    assert NOOP not in lab.up("openldap").stdout
    assert NOOP in lab.up("openldap").stdout

    # lab down forgets it
    lab.run("down")
    assert not (lab.dir / ".lab" / "fingerprint.json").exists()
