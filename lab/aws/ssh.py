"""Wait until a new or restarted instance answers SSH, and keep its host key pinned.

The key is learnt on first contact after `create` (trust on first use, as `lab host` does) and
stored in `.lab/aws/hosts.json`; after a restart with a new public IP, the known key is written
for the new address *before* connecting, so a different key there is an error, not a new pin.
Pins go to the lab's known_hosts (`LabContext.known_hosts`), which `lab up --host` uses.
"""

from __future__ import annotations

import base64
import time

from lab.aws.state import HostRecord, HostStore
from lab.context import LabContext
from lab.errors import TargetError

#: Runs once SSH answers after the first boot: wait for cloud-init (Docker install), if present.
CLOUD_INIT_WAIT = "if command -v cloud-init >/dev/null 2>&1; then cloud-init status --wait >/dev/null; fi; true"


def _entry(address: str, port: int) -> str:
    return address if port == 22 else f"[{address}]:{port}"


def _dial_address(record: HostRecord) -> str:
    """Where to connect now: the public IP when the inventory uses the DNS name (a fresh record
    may still be negatively cached by a resolver); the key is pinned for both names."""
    if record.dns_name and record.ssh_address == record.dns_name and record.public_ip:
        return record.public_ip
    return record.ssh_address


def wait_and_pin(ctx: LabContext, record: HostRecord, *, timeout: float, first_boot: bool) -> HostRecord:
    """Connect as root with the key pair until it works or `timeout` seconds pass."""
    from lab.host.inventory import SshTarget
    from lab.host.ssh import connect, run

    dial = _dial_address(record)
    if record.host_key:
        _pin(ctx, record.host_key, dial, record.ssh_port)
    target = SshTarget(name=record.name, address=dial, port=record.ssh_port, user=record.user, key_file=record.key_file)
    deadline = time.monotonic() + timeout
    while True:
        try:
            client = connect(target, ctx.known_hosts, timeout=10)
            break
        except TargetError as exc:
            what = exc.problems[0].what
            if "host key changed" in what or time.monotonic() > deadline:
                raise
            time.sleep(3)
    try:
        if first_boot:
            run(client, CLOUD_INIT_WAIT, timeout=max(60.0, deadline - time.monotonic()))
        transport = client.get_transport()
        key = transport.get_remote_server_key() if transport else None
    finally:
        client.close()
    if key is not None and not record.host_key:
        record = record.with_(host_key=f"{key.get_name()} {key.get_base64()}")
        HostStore.load(ctx).put(record)
    if record.host_key and dial != record.ssh_address:
        _pin(ctx, record.host_key, record.ssh_address, record.ssh_port)  # the name the inventory uses
    return record


def _pin(ctx: LabContext, host_key: str, address: str, port: int) -> None:
    import paramiko

    kind, _, data = host_key.partition(" ")
    keys = paramiko.HostKeys()
    ctx.known_hosts.parent.mkdir(parents=True, exist_ok=True)
    ctx.known_hosts.touch(mode=0o600, exist_ok=True)
    keys.load(str(ctx.known_hosts))
    entry = _entry(address, port)
    if keys.lookup(entry):
        return  # whatever is pinned there is checked by the connection
    key = paramiko.PKey.from_type_string(kind, base64.b64decode(data))
    keys.add(entry, kind, key)
    keys.save(str(ctx.known_hosts))


def forget(ctx: LabContext, record: HostRecord) -> None:
    """Drop the pinned key of a destroyed host's address (the IP may go to someone else)."""
    import paramiko

    if not ctx.known_hosts.is_file() or not record.ssh_address:
        return
    keys = paramiko.HostKeys(str(ctx.known_hosts))
    entries = {_entry(a, record.ssh_port) for a in (record.ssh_address, record.public_ip, record.dns_name) if a}
    changed = False
    for entry in entries & set(keys.keys()):
        del keys[entry]
        changed = True
    if changed:
        keys.save(str(ctx.known_hosts))
