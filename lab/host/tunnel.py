"""SSH local port forwarding with paramiko: reach services a native host binds to its loopback.

`forward(client, remote)` listens on 127.0.0.1:<free port> here, one per `(address, port)` on the
host, and relays every connection through the SSH session (a `direct-tcpip` channel, RFC 4254
section 7.2), like `ssh -N -L`. Threads end when the block ends.
"""

from __future__ import annotations

import contextlib
import select
import socket
import threading
from collections.abc import Iterator
from typing import Any

import paramiko


def _relay(sock: socket.socket, chan: paramiko.Channel) -> None:
    waitable: list[Any] = [sock, chan]
    try:
        while True:
            ready = select.select(waitable, [], [], 1.0)[0]
            if sock in ready:
                data = sock.recv(65536)
                if not data:
                    break
                chan.sendall(data)
            if chan in ready:
                data = chan.recv(65536)
                if not data:
                    break
                sock.sendall(data)
    except OSError:
        pass
    finally:
        chan.close()
        sock.close()


@contextlib.contextmanager
def forward(client: paramiko.SSHClient, remote: list[tuple[str, int]]) -> Iterator[dict[tuple[str, int], int]]:
    """`{(remote address, remote port): local port}` while the block runs (all on 127.0.0.1 here)."""
    transport = client.get_transport()
    assert transport is not None
    stop = threading.Event()
    listeners: list[socket.socket] = []
    ports: dict[tuple[str, int], int] = {}

    def serve(listener: socket.socket, dest: tuple[str, int]) -> None:
        while not stop.is_set():
            try:
                sock, peer = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                chan = transport.open_channel("direct-tcpip", dest, peer, timeout=10)
            except (paramiko.SSHException, OSError):
                sock.close()  # nothing listens there: the client sees the connection close
                continue
            threading.Thread(target=_relay, args=(sock, chan), daemon=True).start()

    try:
        for dest in dict.fromkeys(remote):
            listener = socket.socket()
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind(("127.0.0.1", 0))
            listener.listen(16)
            listener.settimeout(0.5)
            listeners.append(listener)
            ports[dest] = int(listener.getsockname()[1])
            threading.Thread(target=serve, args=(listener, dest), daemon=True).start()
        yield ports
    finally:
        stop.set()
        for listener in listeners:
            listener.close()
