#!/bin/sh
# Healthy when openvpn runs with its tun device up and is listening on 1194/udp.
pgrep -x openvpn >/dev/null && ip link show tun0 >/dev/null 2>&1 && ss -Hlun 'sport = :1194' | grep -q 1194
