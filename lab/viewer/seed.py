"""Synthetic SSH sessions (asciicast v2) so a new lab has recordings to browse.

Deterministic for a given seed and day: the sessions end at today's midnight (UTC), so seeding
twice on a day adds nothing (existing keys are skipped).
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

from lab.viewer.storage import Storage

TEAMS = {
    "galaxy-ops": {
        "core-infrastructure": ["bastion-01", "dns-01", "ntp-01"],
        "database-fleet": ["db-primary", "db-replica-1", "db-replica-2"],
    },
    "galaxy-sec": {
        "internet-facing": ["web-01", "web-02", "proxy-01"],
        "identity": ["ldap-01", "scim-gw"],
    },
    "rebel-dev": {
        "build-farm": ["ci-runner-1", "ci-runner-2"],
        "staging": ["app-stg-1", "app-stg-2"],
    },
}
USERS = ["luke.skywalker", "leia.organa", "han.solo", "obi-wan.kenobi", "padme.amidala", "c-3po"]

_SCRIPTS: list[list[dict[str, str]]] = yaml.safe_load(
    (Path(__file__).parent / "data" / "sessions.yaml").read_text(encoding="utf-8")
)


@dataclass(frozen=True)
class SeedResult:
    written: list[str]
    skipped: int


def _events(rng: random.Random, user: str, server: str, started: datetime) -> list[list[object]]:
    prompt = f"\x1b[1;32m{user}@{server}\x1b[0m:\x1b[1;34m~\x1b[0m$ "
    clock = started.strftime("%H:%M:%S")
    t = 0.3
    events: list[list[object]] = [[t, "o", f"Last login: {started:%a %b %d %H:%M} from 10.0.4.17\r\n"]]
    for step in rng.choice(_SCRIPTS):
        cmd, out = step["cmd"], step["out"]
        t += 0.2
        events.append([round(t, 3), "o", prompt])
        t += rng.uniform(0.4, 1.2)
        for ch in cmd:
            t += rng.uniform(0.03, 0.12)
            events.append([round(t, 3), "o", ch])
        t += 0.15
        events.append([round(t, 3), "o", "\r\n"])
        t += rng.uniform(0.1, 0.5)
        text = out.format(user=user, clock=clock).replace("\n", "\r\n")
        events.append([round(t, 3), "o", text + "\r\n"])
    t += 0.4
    events.append([round(t, 3), "o", prompt])
    t += 0.8
    events.append([round(t, 3), "o", "exit\r\nlogout\r\n"])
    return events


def cast_bytes(events: list[list[object]], started: datetime, title: str) -> bytes:
    header = {
        "version": 2,
        "width": 100,
        "height": 24,
        "timestamp": int(started.timestamp()),
        "duration": events[-1][0] if events else 0,
        "title": title,
        "env": {"SHELL": "/bin/bash", "TERM": "xterm-256color"},
    }
    lines = [json.dumps(header)] + [json.dumps(e) for e in events]
    return ("\n".join(lines) + "\n").encode()


def sample_sessions(count: int, seed: int = 7, now: datetime | None = None) -> list[tuple[str, bytes]]:
    """`count` (key, .cast bytes) pairs spread over the last 30 days."""
    rng = random.Random(seed)
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    end = now or today
    out = []
    for _ in range(count):
        team = rng.choice(sorted(TEAMS))
        project = rng.choice(sorted(TEAMS[team]))
        server = rng.choice(TEAMS[team][project])
        user = rng.choice(USERS)
        started = end - timedelta(seconds=rng.randint(1, 30 * 86400))
        stamp = started.strftime("%Y%m%dT%H%M%S.") + f"{rng.randint(0, 9999):04d}"
        suffix = f"-1-{rng.getrandbits(32):08x}-{rng.getrandbits(64):016x}"
        key = f"ssh~{stamp}~{team}~{project}~{server}~{user}~{suffix}.cast"
        title = f"{user}@{server} ({project})"
        out.append((key, cast_bytes(_events(rng, user, server, started), started, title)))
    return out


def seed(storage: Storage, count: int, seed_value: int = 7) -> SeedResult:
    """Write `count` sample sessions; keys that already exist are left alone."""
    written, skipped = [], 0
    for key, data in sample_sessions(count, seed_value):
        if storage.exists(key):
            skipped += 1
            continue
        storage.put_bytes(key, data)
        written.append(key)
    return SeedResult(written, skipped)
