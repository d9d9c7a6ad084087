"""Native target: converge time of the LDAP and JDBC stacks on a bare systemd test host.

Prints first-run and no-op re-run wall time per stack (plus the bootstrap play as the baseline).
Stacks whose roles are not written yet are reported as such, not timed.

    .venv/bin/python benchmarks/host_converge.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lab.config import LabConfig  # noqa: E402
from lab.context import LabContext  # noqa: E402
from lab.host.ansible import converge_twice  # noqa: E402
from lab.host.inventory import load_inventory  # noqa: E402
from lab.host.playbooks import PLAYBOOKS, load_stack, missing_roles  # noqa: E402
from lab.host.render import render_host  # noqa: E402
from lab.targets.host import plan, render  # noqa: E402
from tests.hosts.testhost import (  # noqa: E402
    build_image,
    free_port_overrides,
    lab_ports,
    make_key,
    pin_sources,
    port_keys,
    snapshot_sources,
    start_host,
    write_lab,
)


def main() -> None:
    build_image()
    root = Path(tempfile.mkdtemp(prefix="lab-bench-host-"))
    key = make_key(root)
    ctx_dir = write_lab(root / "lab", "", **free_port_overrides(port_keys()))  # never a taken port
    host = start_host(key, lab_ports(ctx_dir / ".env"))
    groups = ("ldap", "db", "scim", "viewer")
    (ctx_dir / "inventory.ini").write_text("".join(f"[{g}]\n{host.inventory_line('bench')}\n" for g in groups))
    ctx = LabContext(root=ctx_dir)
    try:
        cfg = LabConfig.from_env(ctx.env_path)
        inventory = load_inventory(ctx_dir / "inventory.ini")
        files = render_host(cfg, inventory, ctx.lab_dir / "host", ctx.lab_dir, ctx.packages_dir)
        r = converge_twice(files, PLAYBOOKS / "bootstrap.yml")
        print(f"{'bootstrap':<10} first {r.first.seconds:6.1f}s  no-op {r.second.seconds:5.1f}s  "
              f"changed {r.first.changed} -> {r.second.changed}")  # fmt: skip
        for stack in ("ldap", "jdbc"):
            missing = missing_roles(load_stack(stack))
            if missing:
                print(f"{stack:<10} not measured: role(s) not written yet: {', '.join(missing)}")
                continue
            files = render(ctx, plan(ctx, [stack]))
            pin_sources(files.group_vars.parent, snapshot_sources(root))  # edits elsewhere don't count
            r = converge_twice(files, PLAYBOOKS / f"{stack}.yml")
            print(f"{stack:<10} first {r.first.seconds:6.1f}s  no-op {r.second.seconds:5.1f}s  "
                  f"changed {r.first.changed} -> {r.second.changed}")  # fmt: skip
    finally:
        host.remove()


if __name__ == "__main__":
    main()
