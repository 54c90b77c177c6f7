"""Workers get the listening socket from the supervisor: the connections they accept must
have Nagle's algorithm off (TCP_NODELAY), or every keep-alive response after the first
waits for the client's delayed ACK (~40 ms on Linux; encode/uvicorn#3149).

The socket travels to a worker as uvicorn's spawn-based supervisor sends it: pickled by
multiprocessing's reducer (family, type and proto kept) and rebuilt there; the test then
accepts a connection on the rebuilt socket with asyncio, as a worker does, and reads the
option on the accepted socket.
"""

from __future__ import annotations

import asyncio
import io
import pickle
import socket
from multiprocessing.reduction import ForkingPickler

import pytest

from opendata.serving import listening_socket


def _as_a_worker_receives_it(sock: socket.socket) -> socket.socket:
    buffer = io.BytesIO()
    ForkingPickler(buffer).dump(sock)
    return pickle.loads(buffer.getvalue())


def _nodelay_of_an_accepted_connection(listener: socket.socket) -> int:
    async def run() -> int:
        accepted: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        class Probe(asyncio.Protocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                conn = transport.get_extra_info("socket")
                accepted.set_result(conn.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
                transport.close()

        server = await asyncio.get_running_loop().create_server(Probe, sock=listener)
        port = listener.getsockname()[1]
        _reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            return await asyncio.wait_for(accepted, 10)
        finally:
            writer.close()
            server.close()
            await server.wait_closed()

    return asyncio.run(run())


def test_connections_accepted_by_a_worker_have_nodelay() -> None:
    listener = _as_a_worker_receives_it(listening_socket("127.0.0.1", 0))
    assert listener.proto == socket.IPPROTO_TCP
    assert _nodelay_of_an_accepted_connection(listener) != 0


def test_a_listener_bound_without_the_protocol_loses_nodelay() -> None:
    """The failure the fix prevents (what uvicorn's own bind_socket did before the fix)."""
    plain = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    plain.bind(("127.0.0.1", 0))
    assert _nodelay_of_an_accepted_connection(_as_a_worker_receives_it(plain)) == 0


def test_a_port_in_use_is_one_clear_startup_failure(caplog: pytest.LogCaptureFixture) -> None:
    taken = listening_socket("127.0.0.1", 0)
    taken.listen()
    with pytest.raises(SystemExit) as stopped:
        listening_socket("127.0.0.1", taken.getsockname()[1])
    assert stopped.value.code == 3
    assert "cannot listen on 127.0.0.1" in caplog.text
