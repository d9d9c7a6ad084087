"""Test hosts: a systemd "bare host" container reachable over SSH on a loopback port."""
