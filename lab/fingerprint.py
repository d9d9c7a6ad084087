"""The no-op `lab up`: skip everything when nothing it reads changed and every service is healthy.

After a successful local `lab up`, `.lab/fingerprint.json` records a digest of everything that
run read, and the demo card it printed (secrets redacted). The next `lab up` with the same
arguments first recomputes the digest and asks the Docker engine (its unix socket, Engine API
`GET /containers/{id}/json`) whether every service it waited for still runs, healthy, from the
same compose configuration. Only when both hold does it print the card and stop — no rendering,
no compose, no health wait. Anything else (a changed input, a stopped or unhealthy container, a
remote engine, an unreadable record) takes the normal path, which records a new fingerprint.

The digest covers: the `.env` bytes, the `up` arguments, `.lab/lab.json` and `.lab/compose.yml`,
the toolkit's own files (compose/, templates/, lab/, pyproject.toml: path, size, mtime), the
installed Python distributions (their dist-info names, so a version change counts), packages/
and every other file the config names (company file, extra CA certificates), and the process
variables that change what compose does (LAB_COMPOSE, DOCKER_HOST, DOCKER_CONTEXT).

This module runs before the CLI framework loads, on every `lab up`: it imports only a few
standard modules (no http.client, dataclasses or typing at run time: ~25 ms saved).
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import sys
import time
from pathlib import Path

from lab import RESOURCES, __version__

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from typing import Any, TextIO

RECORD = "fingerprint.json"
SCHEMA = 1
PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"
CONFIG_HASH_LABEL = "com.docker.compose.config-hash"
#: process variables that change what `lab up` or compose would do
ENV_KEYS = ("LAB_COMPOSE", "DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_CONFIG")
_TREES = ("compose", "templates", "lab")
_FILES = ("pyproject.toml", "README.md")
_SKIP_PARTS = {"__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache"}


class Fingerprint:
    """What `.lab/fingerprint.json` holds."""

    def __init__(
        self,
        digest: str,
        names: list[str],
        project: str,
        services: list[str],
        containers: dict[str, dict[str, str]] | None = None,
        watched: list[str] | None = None,
        card: list[list[Any]] | None = None,
        notes: list[str] | None = None,
        schema: int = SCHEMA,
    ) -> None:
        self.digest = digest
        self.names = names
        self.project = project
        self.services = services  # the services `lab up` waited for
        self.containers = containers or {}  # service -> {image, config_hash}
        self.watched = watched or []  # extra paths the config reads
        self.card = card or []  # [service, label, value, secret], secret values redacted
        self.notes = notes or []  # the notes that run printed on stderr
        self.schema = schema

    @classmethod
    def load(cls, lab_dir: Path) -> Fingerprint | None:
        try:
            data = json.loads((lab_dir / RECORD).read_text())
            if data.get("schema") != SCHEMA:
                return None
            return cls(**data)
        except (OSError, ValueError, TypeError):
            return None

    def save(self, lab_dir: Path) -> None:
        path = lab_dir / RECORD
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.__dict__, indent=1, sort_keys=True) + "\n")
        os.chmod(tmp, 0o600)
        tmp.replace(path)


def forget(lab_dir: Path) -> None:
    """Drop the record (after `lab down`, `reset`, a failed `up`): the next `up` does the full run."""
    try:  # noqa: SIM105 - contextlib.suppress would cost an import on the fast path
        (lab_dir / RECORD).unlink()
    except OSError:
        pass


# -- the digest ---------------------------------------------------------------------------------


def inputs_digest(root: Path, env_path: Path, names: Sequence[str], watched: Iterable[str] = ()) -> str:
    """sha256 over what a `lab up NAMES` in `root` reads (see the module docstring).

    Raises OSError when `.env` cannot be read.
    """
    h = hashlib.sha256(f"okta-lab {__version__} schema {SCHEMA}\0{sys.version}\0".encode())
    h.update(json.dumps(list(names)).encode() + b"\0")
    h.update(str(env_path).encode() + b"\0" + env_path.read_bytes() + b"\0")
    for key in ENV_KEYS:
        h.update(f"{key}={os.environ.get(key, '')}\0".encode())
    for top in _TREES:
        _stat_tree(h, RESOURCES / top)
    for name in _FILES:
        _stat_tree(h, RESOURCES / name)
    for entry in _dist_infos():
        h.update(entry.encode() + b"\0")
    _stat_tree(h, root / "packages")
    for path in watched:
        _stat_tree(h, Path(path) if Path(path).is_absolute() else root / path)
    return h.hexdigest()


def outputs_digest(root: Path) -> str:
    """sha256 of what that `lab up` wrote and the next one reads: `.lab/lab.json`, `.lab/compose.yml`."""
    h = hashlib.sha256()
    for name in ("lab.json", "compose.yml"):
        h.update(name.encode() + b"\0" + _read_or_empty(root / ".lab" / name) + b"\0")
    return h.hexdigest()


def digest(inputs: str, outputs: str) -> str:
    return hashlib.sha256(f"{inputs}\0{outputs}".encode()).hexdigest()


def _read_or_empty(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b"\0absent"


def _stat_tree(h: Any, top: Path) -> None:
    """Path, size and mtime of `top` and every file under it (absent: a marker)."""
    try:
        st = top.stat()
    except OSError:
        h.update(f"{top}\0absent\0".encode())
        return
    if not top.is_dir():
        h.update(f"{top}\0{st.st_size}\0{st.st_mtime_ns}\0".encode())
        return
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_PARTS)
        h.update(f"{dirpath}/\0".encode())
        for name in sorted(filenames):
            if name.endswith((".pyc", ".pyo")):
                continue
            try:
                fst = os.stat(os.path.join(dirpath, name))
            except OSError:
                continue
            h.update(f"{name}\0{fst.st_size}\0{fst.st_mtime_ns}\0".encode())


def _dist_infos() -> list[str]:
    """The installed distributions' metadata folder names (`Jinja2-3.1.6.dist-info`...)."""
    found: list[str] = []
    for entry in sys.path:
        if not entry.endswith(("site-packages", "dist-packages")):
            continue
        try:
            found += sorted(n for n in os.listdir(entry) if n.endswith((".dist-info", ".egg-info")))
        except OSError:
            continue
    return found


# -- the engine ---------------------------------------------------------------------------------


def engine_socket() -> str | None:
    """The local engine's unix socket, or None when DOCKER_HOST/DOCKER_CONTEXT point elsewhere."""
    if os.environ.get("DOCKER_CONTEXT") not in (None, "", "default"):
        return None
    host = os.environ.get("DOCKER_HOST", "")
    if not host:
        return "/var/run/docker.sock"
    if host.startswith("unix://"):
        return host.removeprefix("unix://")
    return None


def inspect_project(project: str, sock: str, timeout: float = 5.0) -> list[dict[str, Any]]:
    """`docker inspect` documents of the project's containers, over the engine's unix socket
    (Engine API `GET /containers/json`, then `GET /containers/{id}/json`). OSError/ValueError."""
    filters = _percent(json.dumps({"label": [f"{PROJECT_LABEL}={project}"]}))
    listed = _get(sock, f"/containers/json?all=1&filters={filters}", timeout)
    return [_get(sock, f"/containers/{c['Id']}/json", timeout) for c in listed]


def _percent(text: str) -> str:
    safe = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
    return "".join(ch if ch in safe else "".join(f"%{b:02X}" for b in ch.encode()) for ch in text)


def _get(sock_path: str, url: str, timeout: float) -> Any:
    """One HTTP/1.0 GET (the engine then answers unchunked and closes): the decoded JSON body."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(sock_path)
        sock.sendall(f"GET {url} HTTP/1.0\r\nHost: docker\r\n\r\n".encode())
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    status = head.split(b" ", 2)[1:2]
    if status != [b"200"]:
        raise OSError(f"the engine answered {head[:60]!r} to {url}")
    return json.loads(body)


def containers_satisfied(
    inspected: list[dict[str, Any]], services: Sequence[str], expected: dict[str, dict[str, str]]
) -> bool:
    """True when every service has containers, all running (not restarting or paused), healthy
    where they have a health check, with the image and compose config hash recorded."""
    by_service: dict[str, list[dict[str, Any]]] = {}
    for doc in inspected:
        labels = (doc.get("Config") or {}).get("Labels") or {}
        by_service.setdefault(labels.get(SERVICE_LABEL, ""), []).append(doc)
    for service in services:
        docs = by_service.get(service)
        want = expected.get(service)
        if not docs or want is None:
            return False
        for doc in docs:
            state = doc.get("State") or {}
            config = doc.get("Config") or {}
            health = (state.get("Health") or {}).get("Status", "none")
            if state.get("Status") != "running" or state.get("Restarting") or state.get("Paused"):
                return False
            if health not in ("healthy", "none"):
                return False
            if config.get("Image") != want.get("image"):
                return False
            if (config.get("Labels") or {}).get(CONFIG_HASH_LABEL, "") != want.get("config_hash"):
                return False
    return True


def container_record(inspected: list[dict[str, Any]], services: Sequence[str]) -> dict[str, dict[str, str]]:
    """What `containers_satisfied` later compares: per service, its image and config hash."""
    out: dict[str, dict[str, str]] = {}
    for doc in inspected:
        config = doc.get("Config") or {}
        labels = config.get("Labels") or {}
        service = labels.get(SERVICE_LABEL, "")
        if service in services:
            out[service] = {"image": str(config.get("Image", "")), "config_hash": labels.get(CONFIG_HASH_LABEL, "")}
    return out


# -- record and replay --------------------------------------------------------------------------


def record(
    root: Path,
    inputs: str,
    names: Sequence[str],
    project: str,
    services: Sequence[str],
    watched: Sequence[str],
    card: Sequence[tuple[str, str, str, bool]],
    notes: Sequence[str],
) -> bool:
    """Save the fingerprint of a `lab up` that just succeeded; False (and no record) when the
    engine cannot be asked or a service's container is not satisfied. `inputs`: the
    `inputs_digest` taken before that run started."""
    lab_dir = root / ".lab"
    sock = engine_socket()
    if sock is None:
        forget(lab_dir)
        return False
    try:
        inspected = inspect_project(project, sock)
    except (OSError, ValueError, KeyError):
        forget(lab_dir)
        return False
    containers = container_record(inspected, services)
    if not containers_satisfied(inspected, services, containers):
        forget(lab_dir)
        return False
    Fingerprint(
        digest=digest(inputs, outputs_digest(root)),
        names=list(names),
        project=project,
        services=list(services),
        containers=containers,
        watched=list(watched),
        card=[list(e) for e in card],
        notes=list(notes),
    ).save(lab_dir)
    return True


def unchanged(root: Path, env_path: Path, names: Sequence[str]) -> Fingerprint | None:
    """The record, when `lab up NAMES` would change nothing; None otherwise (never raises)."""
    try:
        fp = Fingerprint.load(root / ".lab")
        if fp is None or fp.names != list(names):
            return None
        now = digest(inputs_digest(root, env_path, names, fp.watched), outputs_digest(root))
        if now != fp.digest:
            return None
        sock = engine_socket()
        if sock is None:
            return None
        if not containers_satisfied(inspect_project(fp.project, sock), fp.services, fp.containers):
            return None
        return fp
    except Exception:  # any doubt: the full run decides
        return None


def parse_up_argv(argv: Sequence[str]) -> tuple[Path, Path | None, list[str]] | None:
    """(directory, env file, names) for a plain `lab [-C DIR] [--env-file F] up [NAMES...]`;
    None for anything else (other flags, another command), which the full CLI handles."""
    root, env_file = Path("."), None
    args = list(argv)
    while args and args[0] != "up":
        opt = args.pop(0)
        if opt in ("-C", "--dir", "--env-file") and args:
            value = args.pop(0)
        elif opt.startswith(("--dir=", "--env-file=")):
            opt, value = opt.split("=", 1)
        else:
            return None
        if opt == "--env-file":
            env_file = Path(value)
        else:
            root = Path(value)
    if not args:
        return None
    names = args[1:]
    if any(n.startswith("-") or not n for n in names):
        return None
    return root, env_file, names


def fast_up(argv: Sequence[str], out: TextIO | None = None, err: TextIO | None = None) -> bool:
    """Handle a no-op `lab up` here and return True; False: run the full command."""
    started = time.monotonic()
    parsed = parse_up_argv(argv)
    if parsed is None:
        return False
    directory, env_file, names = parsed
    try:
        root = directory.resolve()
        env_path = (env_file if env_file is not None else root / ".env").resolve()
    except OSError:
        return False
    fp = unchanged(root, env_path, names)
    if fp is None:
        return False
    out = out or sys.stdout
    err = err or sys.stderr
    for line in fp.notes:
        err.write(f"› {line}\n")
    seconds = time.monotonic() - started
    out.write(
        f"lab is up: {', '.join(fp.services)} healthy (nothing changed since the last `lab up`; {seconds:.2f}s)\n"
    )
    bold = out.isatty() and not os.environ.get("NO_COLOR")
    width = max((len(entry[1]) for entry in fp.card), default=0)
    service = ""
    for svc, label, value, _secret in fp.card:
        if svc != service:
            out.write(f"\x1b[1m{svc}\x1b[0m\n" if bold else f"{svc}\n")
            service = svc
        out.write(f"  {label:<{width}}  {value}\n")
    if any(entry[3] for entry in fp.card):
        out.write("(passwords hidden: `lab creds` shows them)\n")
    out.flush()
    return True
