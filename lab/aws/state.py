"""What the lab remembers about its AWS hosts, on this machine.

- `.lab/aws/hosts.json`: one record per host (instance id, region, addresses, key file).
- `.lab/aws/keys/NAME.pem`: the key pair's private key, mode 0600.
- a managed block in `inventory.ini` (group `aws`), so `lab up --host NAME` and `lab host ...`
  reach NAME as any inventory host: `NAME ansible_host=<address> ansible_user=root ...`.

The address in the inventory is the host's DNS name when a Route 53 zone is set (it survives
restarts), else its current public IP. `LAB_AWS_SSH_ADDRESS_OVERRIDE=HOST[:PORT]` (process
environment) replaces it: for reaching hosts through a port forward or bastion, and for the tests,
whose instances have fake addresses.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from lab.context import LabContext
from lab.errors import ConfigError, Problem

OVERRIDE_ENV = "LAB_AWS_SSH_ADDRESS_OVERRIDE"
INVENTORY_GROUP = "aws"
_BEGIN = "# BEGIN lab aws hosts (managed by `lab aws host`; edits here are replaced)"
_END = "# END lab aws hosts"
_OVERRIDE = re.compile(r"^(?P<host>[A-Za-z0-9.:_-]+?)(?::(?P<port>\d{1,5}))?$")


@dataclass(frozen=True)
class HostRecord:
    name: str
    instance_id: str
    region: str
    key_name: str
    key_file: str
    security_group: str
    public_ip: str = ""
    dns_name: str = ""
    user: str = "root"
    ssh_address: str = ""
    ssh_port: int = 22
    state: str = ""
    host_key: str = ""  # "<type> <base64>" pinned on first contact, re-pinned for a new address

    def with_(self, **changes: object) -> HostRecord:
        return replace(self, **changes)  # type: ignore[arg-type]


@dataclass
class HostStore:
    """`.lab/aws/hosts.json`, written atomically; the inventory block follows every save."""

    ctx: LabContext
    hosts: dict[str, HostRecord] = field(default_factory=dict)

    @property
    def path(self) -> Path:
        return aws_dir(self.ctx) / "hosts.json"

    @classmethod
    def load(cls, ctx: LabContext) -> HostStore:
        store = cls(ctx)
        if store.path.is_file():
            data = json.loads(store.path.read_text())
            store.hosts = {n: HostRecord(**h) for n, h in data.get("hosts", {}).items()}
        return store

    def get(self, name: str) -> HostRecord:
        if name not in self.hosts:
            known = ", ".join(sorted(self.hosts)) or "none yet"
            raise ConfigError(
                Problem(f"no lab AWS host named {name!r} ({known})", f"create it with `lab aws host create {name}`")
            )
        return self.hosts[name]

    def put(self, record: HostRecord) -> None:
        self.hosts[record.name] = record
        self.save()

    def remove(self, name: str) -> None:
        self.hosts.pop(name, None)
        self.save()

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"hosts": {n: asdict(h) for n, h in sorted(self.hosts.items())}}, indent=2) + "\n")
        tmp.replace(self.path)
        write_inventory(self.ctx.root / "inventory.ini", list(self.hosts.values()))


def aws_dir(ctx: LabContext) -> Path:
    return ctx.lab_dir / "aws"


def key_path(ctx: LabContext, name: str) -> Path:
    return aws_dir(ctx) / "keys" / f"{name}.pem"


def save_private_key(path: Path, material: str) -> None:
    """Write the key pair's private key with mode 0600 from the start (never world-readable)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(material if material.endswith("\n") else material + "\n")
    path.chmod(0o600)


def ssh_endpoint(public_ip: str, dns_name: str) -> tuple[str, int]:
    """Where SSH reaches a host: the override, else its DNS name, else its public IP."""
    override = os.environ.get(OVERRIDE_ENV, "").strip()
    if override:
        m = _OVERRIDE.match(override)
        if not m:
            raise ConfigError(Problem(f"{OVERRIDE_ENV}={override!r} is not HOST[:PORT]", "use e.g. 127.0.0.1:2222"))
        return m["host"], int(m["port"] or 22)
    return (dns_name or public_ip), 22


def write_inventory(path: Path, hosts: list[HostRecord]) -> None:
    """Replace the managed block of `path` (created if missing); the rest of the file is untouched."""
    text = path.read_text() if path.is_file() else ""
    start, end = text.find(_BEGIN), text.find(_END)
    if start != -1 and end != -1:
        text = text[:start] + text[end + len(_END) :].lstrip("\n")
    block = ""
    if hosts:
        lines = [
            f"{h.name} ansible_host={h.ssh_address} ansible_port={h.ssh_port} ansible_user={h.user} "
            f"ansible_ssh_private_key_file={h.key_file}"
            for h in sorted(hosts, key=lambda h: h.name)
            if h.ssh_address
        ]
        block = "\n".join([_BEGIN, f"[{INVENTORY_GROUP}]", *lines, _END]) + "\n"
    new = (text.rstrip("\n") + "\n\n" + block if text.strip() else block) if block else text
    if new != (path.read_text() if path.is_file() else "") and (new or path.is_file()):
        path.write_text(new)
