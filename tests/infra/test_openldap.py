"""Pipeline checks for the openldap service: process, ports, a real search."""

from __future__ import annotations

import ldap3


def test_slapd_runs_as_openldap(lab):
    procs = lab.host("openldap").process.filter(comm="slapd")
    assert procs, lab.logs("openldap")
    assert all(p.user == "openldap" for p in procs)


def test_admin_can_search_base_dn(lab):
    server = ldap3.Server(lab.addr, port=lab.port("LDAP_PORT"), connect_timeout=5)
    conn = ldap3.Connection(server, lab.cfg.ldap.admin_dn, lab.cfg.ldap.admin_password)
    assert conn.bind(), conn.result
    assert conn.search(lab.cfg.ldap.base_dn, "(objectClass=*)", search_scope=ldap3.BASE)
    assert conn.entries[0].entry_dn.lower() == lab.cfg.ldap.base_dn


def test_wrong_admin_password_is_refused(lab):
    server = ldap3.Server(lab.addr, port=lab.port("LDAP_PORT"), connect_timeout=5)
    conn = ldap3.Connection(server, lab.cfg.ldap.admin_dn, "not-the-password")
    assert not conn.bind()
    assert conn.result["result"] == 49
