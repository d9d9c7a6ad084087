"""The INI inventory reader: groups, children, variables, and the bad inputs it must name."""

from __future__ import annotations

from pathlib import Path

import pytest

from lab.errors import ConfigError
from lab.host.inventory import load_inventory

GOOD = """\
# a comment
loose ansible_host=10.0.0.9

[ldap]
ldap1 ansible_host=10.0.0.5 ansible_user=ubuntu ansible_port=2222
ldap2

[db]
db1 ansible_ssh_private_key_file="/keys/id"

[backend:children]
db

[backend:vars]
ansible_user=admin

[all:vars]
ansible_user=root
ansible_python_interpreter='/usr/bin/python3'
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "inventory.ini"
    path.write_text(text)
    return path


def test_groups_children_and_ungrouped(tmp_path: Path) -> None:
    inv = load_inventory(write(tmp_path, GOOD))
    assert inv.hosts_in("ldap") == ["ldap1", "ldap2"]
    assert inv.hosts_in("backend") == ["db1"]
    assert inv.hosts_in("ungrouped") == ["loose"]
    assert inv.hosts_in("all") == ["loose", "ldap1", "ldap2", "db1"]
    assert inv.hosts_in("radius") == []


def test_variable_precedence_host_over_child_group_over_all(tmp_path: Path) -> None:
    inv = load_inventory(write(tmp_path, GOOD))
    assert inv.target("ldap1").user == "ubuntu"  # host line wins
    assert inv.target("db1").user == "admin"  # [backend:vars] beats [all:vars]
    assert inv.target("ldap2").user == "root"
    assert inv.host_vars("ldap2")["ansible_python_interpreter"] == "/usr/bin/python3"


def test_ssh_target_fields(tmp_path: Path) -> None:
    inv = load_inventory(write(tmp_path, GOOD))
    t = inv.target("ldap1")
    assert (t.address, t.port, t.key_file) == ("10.0.0.5", 2222, "")
    assert inv.target("ldap2").address == "ldap2" and inv.target("ldap2").port == 22
    assert inv.target("db1").key_file == "/keys/id"
    assert t.label == "ldap1 (ubuntu@10.0.0.5:2222)"


def test_missing_file_says_how_to_create_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as exc:
        load_inventory(tmp_path / "nope.ini")
    assert "does not exist" in str(exc.value) and "inventory.example.ini" in str(exc.value)
    assert exc.value.exit_code == 2


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[ldap\nh1\n", "inventory.ini:1: bad section header"),
        ("[ldap]\nh1 ansible_port\n", "inventory.ini:2: expected key=value after host h1"),
        ("[ldap]\nweb[1:3]\n", "host ranges like web[1:3] are not supported"),
        ("[ldap]\nh1 'unclosed\n", "inventory.ini:2: cannot parse"),
        ("[x:children]\nnothere\n", "names unknown group 'nothere'"),
        ("[x:vars]\njustakey\n", "inventory.ini:2: expected key=value in [x:vars]"),
    ],
)
def test_unparsable_lines_are_named(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as exc:
        load_inventory(write(tmp_path, text))
    assert expected in str(exc.value)


def test_every_problem_is_reported_together(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as exc:
        load_inventory(write(tmp_path, "[a\n[b]\nh ansible_port\n"))
    assert len(exc.value.problems) == 2


def test_non_numeric_port(tmp_path: Path) -> None:
    inv = load_inventory(write(tmp_path, "[ldap]\nh1 ansible_port=ssh\n"))
    with pytest.raises(ConfigError, match="non-numeric ansible_port"):
        inv.target("h1")


def test_example_inventory_parses() -> None:
    from lab import RESOURCES

    inv = load_inventory(RESOURCES / "inventory.example.ini")
    for group in ("ldap", "db", "scim", "viewer", "glpi", "radius"):
        assert group in inv.groups
