"""Fixtures for the Flight unit tests: a gRPC stub that answers as a Rust (tonic) server.

The stub answers every call with one status, as InfluxDB 3 (tonic) does.

pyarrow's own Flight server adds Arrow trailers (``x-arrow-status``...) that let a
pyarrow client rebuild the exact Arrow error; InfluxDB 3's server sends only the gRPC
``grpc-status`` / ``grpc-message``.  This stub, written on the h2 library over a plain
socket (gRPC over cleartext HTTP/2 with prior knowledge), answers like the latter and
records each request's headers and body, so the client is tested against what
InfluxDB sends and proven to send what InfluxDB reads.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import h2.config
import h2.connection
import h2.events
import pytest


@dataclass
class Call:
    """One request the stub received."""

    headers: dict[str, str]
    body: bytes = b""

    @property
    def message(self) -> bytes:
        """The request's one gRPC message (after the 5-byte length prefix)."""
        assert self.body[:1] == b"\x00", "the client compressed the request"
        length = int.from_bytes(self.body[1:5], "big")
        return self.body[5 : 5 + length]

    @property
    def ticket(self) -> bytes:
        """The ``Ticket.ticket`` bytes of a ``DoGet`` (protobuf field 1, length-delimited)."""
        message = self.message
        assert message[:1] == b"\x0a", "not a Ticket"
        length, shift, pos = 0, 0, 1
        while True:
            byte = message[pos]
            length |= (byte & 0x7F) << shift
            pos, shift = pos + 1, shift + 7
            if not byte & 0x80:
                break
        return message[pos : pos + length]


@dataclass
class GrpcStub:
    """Answers every call on ``port`` with ``grpc-status: code`` and ``message``."""

    code: int
    message: str
    calls: list[Call] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(8)
        self.port = self._sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="grpc-stub", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        with contextlib.suppress(OSError):
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
        self._thread.join(5)
        self._sock.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            conn, _ = self._sock.accept()
            if self._stop.is_set():
                conn.close()
                return
            with conn:
                conn.settimeout(5)
                with contextlib.suppress(OSError):
                    self._handle(conn)

    def _handle(self, conn: socket.socket) -> None:
        h2conn = h2.connection.H2Connection(
            h2.config.H2Configuration(client_side=False, header_encoding="utf-8")
        )
        h2conn.initiate_connection()
        conn.sendall(h2conn.data_to_send())
        pending: dict[int, Call] = {}
        while True:
            data = conn.recv(65536)
            if not data:
                return
            for event in h2conn.receive_data(data):
                if isinstance(event, h2.events.RequestReceived):
                    pending[event.stream_id] = Call(dict(event.headers))
                elif isinstance(event, h2.events.DataReceived):
                    pending[event.stream_id].body += event.data
                    h2conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                elif isinstance(event, h2.events.StreamEnded):
                    self.calls.append(pending.pop(event.stream_id))
                    h2conn.send_headers(  # a "trailers-only" answer
                        event.stream_id,
                        [
                            (":status", "200"),
                            ("content-type", "application/grpc"),
                            ("grpc-status", str(self.code)),
                            ("grpc-message", urllib.parse.quote(self.message, safe=" '")),
                        ],
                        end_stream=True,
                    )
            conn.sendall(h2conn.data_to_send())


@pytest.fixture
def grpc_stub() -> Iterator[Callable[[int, str], GrpcStub]]:
    """``grpc_stub(code, message)``: a started :class:`GrpcStub`, closed after the test."""
    stubs: list[GrpcStub] = []

    def make(code: int, message: str) -> GrpcStub:
        stub = GrpcStub(code, message)
        stubs.append(stub)
        return stub

    yield make
    for stub in stubs:
        stub.close()
