"""Bad input met on the way in: one clear line naming the key and the fix, exit 2, nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest

from lab.config import LabConfig
from lab.settings.core import CoreSettings
from tests.conftest import lab_cli


def test_init_refuses_an_unknown_key_and_suggests_the_close_one(tmp_path: Path) -> None:
    proc = lab_cli(tmp_path, "init", "--set", "LDAP_PROT=10389", check=False)
    assert proc.returncode == 2, proc.stderr
    assert "error: --set LDAP_PROT is not a configuration key — did you mean LDAP_PORT?" in proc.stderr
    assert not (tmp_path / ".env").exists()


def test_init_refuses_set_without_a_value(tmp_path: Path) -> None:
    proc = lab_cli(tmp_path, "init", "--set", "LDAP_PORT", check=False)
    assert proc.returncode == 2, proc.stderr
    assert "error: --set 'LDAP_PORT' has no value — write it as --set LDAP_PORT=VALUE" in proc.stderr
    assert not (tmp_path / ".env").exists()


def test_failed_init_leaves_no_env_behind_and_the_next_init_works(tmp_path: Path) -> None:
    proc = lab_cli(tmp_path, "init", "--set", "LDAP_PORT=70000", check=False)
    assert proc.returncode == 2, proc.stderr
    assert "LDAP_PORT='70000'" in proc.stderr and "from 1 to 65535" in proc.stderr
    assert not (tmp_path / ".env").exists() and not list(tmp_path.glob(".env*"))
    lab_cli(tmp_path, "init", "--set", "LDAP_PORT=10389")
    assert "LDAP_PORT=10389" in (tmp_path / ".env").read_text()


@pytest.mark.parametrize(("given", "bind", "url_host"), [
    ("::1", "::1", "[::1]"),
    ("[::1]", "::1", "[::1]"),
    ("127.0.0.1", "127.0.0.1", "127.0.0.1"),
    ("0:0::1", "::1", "[::1]"),
])  # fmt: skip
def test_ipv6_binds_are_accepted_bracketed_or_not(given: str, bind: str, url_host: str) -> None:
    core = CoreSettings.model_validate({"LAB_BIND": given})
    assert (core.bind, core.url_host) == (bind, url_host)


@pytest.mark.parametrize("given", ["localhost", "[127.0.0.1", "::1]", "[localhost]", "127.0.0.1:80"])
def test_bind_must_be_an_ip_literal(given: str) -> None:
    with pytest.raises(Exception, match="is not an IP address"):
        LabConfig.from_mapping({"LAB_BIND": given})
