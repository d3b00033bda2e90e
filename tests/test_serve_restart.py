"""`verbatim serve` stopped and started again at once on the same port, after clients had
connected, serves at once (slow: starts the real server twice)."""

from __future__ import annotations

import http.client
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import free_port, serving

pytestmark = pytest.mark.slow
TIME_WAIT = "06"  # the state's code in /proc/net/tcp


def waiting_connections(port: int) -> int:
    """TCP connections whose local end is `port`, in TIME_WAIT (Linux: read from /proc/net/tcp)."""
    lines = Path("/proc/net/tcp").read_text().splitlines()[1:]
    fields = [line.split() for line in lines]
    return sum(1 for f in fields if int(f[1].rsplit(":", 1)[1], 16) == port and f[3] == TIME_WAIT)


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads TCP states from Linux's /proc/net/tcp")
def test_a_server_that_had_clients_restarts_at_once_on_its_port(built_index: tuple[Path, Path]) -> None:
    port = free_port()
    with serving(*built_index, port=port) as url:
        held = []
        for path in ("/", "/doc/2023-05-02-cat76-kazakhstan-january-events", "/config"):
            client = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            client.request("GET", path)
            client.getresponse().read()
            held.append(client)  # kept open until the server has stopped: the server closes first
    for client in held:
        client.close()  # as a browser does when the server hangs up; the server's end waits in TIME_WAIT
    assert waiting_connections(port) > 0, "the test needs the stopped server's connections in TIME_WAIT"
    with serving(*built_index, port=port) as again, urllib.request.urlopen(again, timeout=30) as response:
        assert again == url and response.status == 200
