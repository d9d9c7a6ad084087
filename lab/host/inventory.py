"""Read an Ansible INI inventory (the subset `inventory.example.ini` documents).

Supported: `[group]` host lines with `key=value` variables, `[group:vars]`, `[group:children]`,
host lines before the first section (ungrouped). Host ranges such as `web[01:03]` are not.
Only what `lab` needs is resolved here (which hosts are in a group, how to reach them); Ansible
itself reads the same file for everything else.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from lab.errors import ConfigError, Problem

_SECTION = re.compile(r"^\[([A-Za-z0-9_.-]+)(?::(vars|children))?\]$")
_NAME = re.compile(r"^[A-Za-z0-9_.@:-]+$")


@dataclass(frozen=True)
class SshTarget:
    """How to reach one inventory host over SSH."""

    name: str
    address: str
    port: int = 22
    user: str = "root"
    key_file: str = ""
    connection: str = "ssh"

    @property
    def label(self) -> str:
        return f"{self.name} ({self.user}@{self.address}:{self.port})"


@dataclass(frozen=True)
class Inventory:
    path: Path
    hosts: dict[str, dict[str, str]] = field(default_factory=dict)  # host -> its own vars
    groups: dict[str, list[str]] = field(default_factory=dict)  # group -> direct hosts
    children: dict[str, list[str]] = field(default_factory=dict)
    group_vars: dict[str, dict[str, str]] = field(default_factory=dict)

    def hosts_in(self, group: str) -> list[str]:
        """Hosts of `group`, including those of its children, in file order."""
        if group == "all":
            return list(self.hosts)
        seen: list[str] = []
        stack, visited = [group], set()
        while stack:
            g = stack.pop(0)
            if g in visited:
                continue
            visited.add(g)
            for h in self.groups.get(g, []):
                if h not in seen:
                    seen.append(h)
            stack.extend(self.children.get(g, []))
        return seen

    def groups_of(self, host: str) -> list[str]:
        """Every group `host` belongs to, parents after children."""
        direct = [g for g, members in self.groups.items() if host in members]
        out: list[str] = []
        queue = list(direct)
        while queue:
            g = queue.pop(0)
            if g in out:
                continue
            out.append(g)
            queue.extend(p for p, kids in self.children.items() if g in kids)
        return out

    def host_vars(self, host: str) -> dict[str, str]:
        """Variables of `host`: `all:vars`, then its groups (parents first), then its own line."""
        merged = dict(self.group_vars.get("all", {}))
        for g in reversed(self.groups_of(host)):
            merged.update(self.group_vars.get(g, {}))
        merged.update(self.hosts.get(host, {}))
        return merged

    def target(self, host: str) -> SshTarget:
        v = self.host_vars(host)
        try:
            port = int(v.get("ansible_port", v.get("ansible_ssh_port", "22")))
        except ValueError:
            raise ConfigError(
                Problem(f"{self.path}: host {host} has a non-numeric ansible_port", "use e.g. 22")
            ) from None
        return SshTarget(
            name=host,
            address=v.get("ansible_host", v.get("ansible_ssh_host", host)),
            port=port,
            user=v.get("ansible_user", v.get("ansible_ssh_user", "root")),
            key_file=v.get("ansible_ssh_private_key_file", ""),
            connection=v.get("ansible_connection", "ssh"),
        )


def load_inventory(path: Path) -> Inventory:
    """Parse `path`; raise ConfigError naming the file and line when it is missing or unparsable."""
    if not path.is_file():
        raise ConfigError(
            Problem(
                f"inventory {path} does not exist",
                "copy inventory.example.ini to inventory.ini and list your hosts, or pass --inventory PATH",
            )
        )
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(Problem(f"inventory {path} cannot be read: {exc}")) from None
    inv = Inventory(path=path)
    problems: list[Problem] = []
    section, kind = "ungrouped", ""
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        where = f"{path}:{number}"
        if line.startswith("["):
            m = _SECTION.match(line)
            if not m:
                problems.append(
                    Problem(
                        f"{where}: bad section header {line!r}",
                        "use [group], [group:vars] or [group:children]",
                    )
                )
                section, kind = "", "bad"
                continue
            section, kind = m.group(1), m.group(2) or ""
            if kind == "":
                inv.groups.setdefault(section, [])
            continue
        if kind == "bad":
            continue
        try:
            words = shlex.split(line, comments=True)
        except ValueError as exc:
            problems.append(Problem(f"{where}: cannot parse {line!r}: {exc}", "check the quotes"))
            continue
        if not words:
            continue
        if kind == "vars":
            key, sep, value = line.partition("=")
            if not sep or not key.strip():
                problems.append(Problem(f"{where}: expected key=value in [{section}:vars], got {line!r}"))
                continue
            inv.group_vars.setdefault(section, {})[key.strip()] = _unquote(value.strip())
        elif kind == "children":
            if len(words) != 1 or not _NAME.match(words[0]):
                problems.append(Problem(f"{where}: expected one group name in [{section}:children], got {line!r}"))
                continue
            inv.children.setdefault(section, []).append(words[0])
        else:
            name, *assignments = words
            if not _NAME.match(name):
                problems.append(
                    Problem(
                        f"{where}: {name!r} is not a host name",
                        "host ranges like web[1:3] are not supported; list each host",
                    )
                )
                continue
            host_vars = inv.hosts.setdefault(name, {})
            for item in assignments:
                key, sep, value = item.partition("=")
                if not sep or not key:
                    problems.append(Problem(f"{where}: expected key=value after host {name}, got {item!r}"))
                    continue
                host_vars[key] = value
            members = inv.groups.setdefault(section, [])
            if name not in members:
                members.append(name)
    for parent, kids in inv.children.items():
        for kid in kids:
            if kid not in inv.groups and kid not in inv.children:
                problems.append(Problem(f"{path}: [{parent}:children] names unknown group {kid!r}"))
    if problems:
        raise ConfigError(*problems)
    return inv


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value
