"""The host key learnt at creation is pinned for a restarted host's new address, then forgotten."""

from __future__ import annotations

from pathlib import Path

import paramiko

from lab.aws.ssh import _pin, forget
from lab.aws.state import HostRecord, write_inventory
from lab.context import LabContext


def record(address: str, key: paramiko.PKey) -> HostRecord:
    return HostRecord(
        name="lab1",
        instance_id="i-0123456789abcdef0",
        region="eu-south-1",
        key_name="k",
        key_file="/k.pem",
        security_group="sg-1",
        ssh_address=address,
        host_key=f"{key.get_name()} {key.get_base64()}",
    )


def test_known_key_is_pinned_for_a_new_address_and_forgotten(tmp_path: Path) -> None:
    ctx = LabContext(root=tmp_path)
    key = paramiko.Ed25519Key.from_private_key_file(_keyfile(tmp_path))
    rec = record("198.51.100.20", key)
    _pin(ctx, rec.host_key, rec.ssh_address, rec.ssh_port)
    keys = paramiko.HostKeys(str(ctx.known_hosts))
    assert keys.lookup("198.51.100.20")["ssh-ed25519"].get_base64() == key.get_base64()
    _pin(ctx, rec.host_key, rec.ssh_address, rec.ssh_port)  # twice: one line
    assert len(ctx.known_hosts.read_text().splitlines()) == 1
    forget(ctx, record("198.51.100.20", key))
    assert paramiko.HostKeys(str(ctx.known_hosts)).lookup("198.51.100.20") is None


def test_inventory_block_is_replaced_and_the_rest_kept(tmp_path: Path) -> None:
    inv = tmp_path / "inventory.ini"
    inv.write_text("[ldap]\nldap1 ansible_host=10.0.0.5\n")
    rec = HostRecord("lab1", "i-1", "eu-south-1", "k", "/k.pem", "sg", ssh_address="lab1.lab.example.com")
    write_inventory(inv, [rec])
    write_inventory(inv, [rec])
    text = inv.read_text()
    assert text.startswith("[ldap]\nldap1 ansible_host=10.0.0.5\n")
    assert text.count("lab1 ansible_host=lab1.lab.example.com") == 1
    write_inventory(inv, [])
    assert inv.read_text().strip() == "[ldap]\nldap1 ansible_host=10.0.0.5"


def _keyfile(tmp_path: Path) -> str:
    import subprocess

    path = tmp_path / "hostkey"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)
    return str(path)


def test_ssh_is_awaited_on_the_ip_while_the_inventory_uses_the_name() -> None:
    from lab.aws.ssh import _dial_address

    rec = HostRecord("lab1", "i-1", "r", "k", "/k", "sg", public_ip="198.51.100.3", dns_name="lab1.z.example")
    assert _dial_address(rec.with_(ssh_address="lab1.z.example")) == "198.51.100.3"
    assert _dial_address(rec.with_(ssh_address="127.0.0.1", ssh_port=2222)) == "127.0.0.1"  # the override
