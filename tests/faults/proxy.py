"""Fault-injecting proxies in front of the real servers: TCP (Kafka, PostgreSQL) and HTTP
(Meilisearch).

A proxy runs its own asyncio loop in a daemon thread; the test switches faults on and
off from its own thread at any moment:

- ``refuse()``: new connections are reset at once (the server went away);
- ``reset()``: every open connection is reset now (RST, not a clean close);
- ``stall()``: bytes stop flowing both ways until ``flow()`` (held, not lost);
- ``delay(s)``: every forwarded chunk waits ``s`` seconds first.

``HttpProxy`` also understands HTTP/1.1 (h11): ``latency(low, high)`` holds every request
for a time drawn between the two (a slow link), and it applies ``Rule``s per request:
answer a status itself (503, 429), reset before or after forwarding (a request the
server applied but whose answer was lost), hold the answer for a while, or rewrite
the JSON answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import socket
import struct
import threading
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, Literal, Self, TypeVar

import h11

T = TypeVar("T")
CHUNK = 256 * 1024


def _hard_close(writer: asyncio.StreamWriter) -> None:
    """Close with RST (SO_LINGER 0), as a crashed peer or a broken network does."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


class TcpProxy:
    """127.0.0.1:<port> → upstream, byte for byte unless a fault is switched on."""

    def __init__(self, upstream_host: str, upstream_port: int, port: int = 0) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.port = port
        self.connections = 0
        self.errors: list[BaseException] = []
        """Unexpected errors of the proxy itself; a test fails if there are any."""
        self._refusing = False
        self._delay_s = 0.0
        self._loop = asyncio.new_event_loop()
        self._flowing = asyncio.Event()
        self._open: set[asyncio.StreamWriter] = set()
        self._server: asyncio.Server | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    # -- life cycle (called from the test's thread)

    def start(self) -> Self:
        self._thread.start()
        self._run(self._start())
        return self

    async def _start(self) -> None:
        self._flowing.set()
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    def close(self) -> None:
        if not self._thread.is_alive():
            return
        self._run(self._close())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    async def _close(self) -> None:
        if self._server is not None:
            self._server.close()
        for writer in list(self._open):
            _hard_close(writer)
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.close()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(30)

    # -- faults

    def refuse(self, on: bool = True) -> None:
        """New connections are reset at once while on; with ``reset()``, the server is gone."""
        self._refusing = on

    def reset(self) -> None:
        """Reset every open connection now."""
        self._run(self._reset())

    async def _reset(self) -> None:
        for writer in list(self._open):
            _hard_close(writer)
        self._open.clear()

    def stall(self) -> None:
        self._loop.call_soon_threadsafe(self._flowing.clear)

    def flow(self) -> None:
        """End a stall and any delay."""
        self._delay_s = 0.0
        self._loop.call_soon_threadsafe(self._flowing.set)

    def delay(self, seconds: float) -> None:
        self._delay_s = seconds

    def heal(self) -> None:
        """Every fault off."""
        self.refuse(False)
        self.flow()

    # -- forwarding

    async def _gate(self) -> None:
        await self._flowing.wait()
        if self._delay_s:
            await asyncio.sleep(self._delay_s)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._refusing:
            _hard_close(writer)
            return
        self.connections += 1
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            _hard_close(writer)
            return
        self._open |= {writer, up_writer}
        try:
            await self._serve(reader, writer, up_reader, up_writer)
        except (OSError, asyncio.IncompleteReadError, h11.ProtocolError):
            pass  # a peer went away (or we reset it): the connection ends
        except Exception as exc:
            self.errors.append(exc)
        finally:
            for w in (writer, up_writer):
                self._open.discard(w)
                if not w.is_closing():
                    _hard_close(w)

    async def _serve(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        up_reader: asyncio.StreamReader,
        up_writer: asyncio.StreamWriter,
    ) -> None:
        await asyncio.gather(self._pump(reader, up_writer), self._pump(up_reader, writer))

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(CHUNK):
            await self._gate()
            writer.write(data)
            await writer.drain()
        with contextlib.suppress(OSError):
            writer.write_eof()


@dataclass
class Request:
    method: str
    path: str
    body: bytes


@dataclass
class Exchange:
    """One request as the proxy handled it: what it did, and the answer the client got."""

    request: Request
    action: str
    status: int | None = None
    answer: Any = None


Action = Literal["answer", "reset_before", "reset_after", "hold", "rewrite"]


@dataclass
class Rule:
    """What to do with matching requests: `times` of them (None: all), each with `chance`."""

    action: Action
    match: Callable[[Request], bool] = lambda _: True
    status: int = 503
    body: bytes = b"Service Unavailable"
    hold_s: float = 0.0
    rewrite: Callable[[Request, Any], Any] | None = None
    times: int | None = None
    chance: float = 1.0
    used: int = field(default=0, init=False)


class HttpProxy(TcpProxy):
    """An HTTP/1.1 proxy (keep-alive, one upstream connection per client connection)."""

    def __init__(self, upstream_host: str, upstream_port: int, port: int = 0) -> None:
        super().__init__(upstream_host, upstream_port, port)
        self.rules: list[Rule] = []
        self.exchanges: list[Exchange] = []
        self._chance = random.Random(0).random
        self._lag = random.Random(0).uniform
        self._latency = (0.0, 0.0)
        self._lock = threading.Lock()

    def seed(self, seed: int) -> None:
        """Draws for rules with a chance below 1, and latencies, come from `seed`."""
        self._chance = random.Random(seed).random
        self._lag = random.Random(seed + 1).uniform

    def latency(self, low_s: float, high_s: float) -> None:
        """Hold every request for a time drawn uniformly between `low_s` and `high_s`."""
        self._latency = (low_s, high_s)

    def add(self, rule: Rule) -> Rule:
        with self._lock:
            self.rules.append(rule)
        return rule

    def clear(self) -> None:
        with self._lock:
            self.rules.clear()

    def heal(self) -> None:
        super().heal()
        self.clear()
        self._latency = (0.0, 0.0)

    def _choose(self, request: Request) -> Rule | None:
        with self._lock:
            for rule in self.rules:
                if rule.times is not None and rule.used >= rule.times:
                    continue
                if not rule.match(request):
                    continue
                if rule.chance < 1.0 and self._chance() >= rule.chance:
                    continue
                rule.used += 1
                return rule
        return None

    async def _serve(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        up_reader: asyncio.StreamReader,
        up_writer: asyncio.StreamWriter,
    ) -> None:
        client = h11.Connection(h11.SERVER)
        server = h11.Connection(h11.CLIENT)
        while True:
            head, body = await _receive(client, reader, h11.Request)
            if head is None:
                return
            assert isinstance(head, h11.Request)
            request = Request(head.method.decode(), head.target.decode(), body)
            rule = self._choose(request)
            exchange = Exchange(request, rule.action if rule else "forward")
            self.exchanges.append(exchange)
            if self._latency[1] > 0:
                await asyncio.sleep(self._lag(*self._latency))
            await self._gate()
            if rule is not None and rule.action == "reset_before":
                return
            headers: Any = []
            if rule is not None and rule.action == "answer":
                status, answer = rule.status, rule.body
            else:
                await _send(server, up_writer, _forwarded(head, body), body)
                response, answer = await _receive(server, up_reader, h11.Response)
                if response is None:
                    return
                assert isinstance(response, h11.Response)
                status, headers = response.status_code, response.headers
                if rule is not None and rule.action == "reset_after":
                    return  # the server did it; the client never hears
                if rule is not None and rule.action == "hold":
                    await asyncio.sleep(rule.hold_s)
                if rule is not None and rule.rewrite is not None:
                    answer = json.dumps(rule.rewrite(request, json.loads(answer))).encode()
                server.start_next_cycle()
            exchange.status = status
            with contextlib.suppress(ValueError):
                exchange.answer = json.loads(answer) if answer else None
            out = h11.Response(status_code=status, headers=_framed(headers, answer))
            await _send(client, writer, out, answer)
            if client.our_state is h11.MUST_CLOSE or client.their_state is h11.MUST_CLOSE:
                return
            client.start_next_cycle()


def document_write(request: Request) -> bool:
    """A request that adds, updates or deletes Meilisearch documents."""
    path = request.path.split("?")[0]
    return request.method in ("POST", "PUT") and path.endswith(
        ("/documents", "/documents/delete-batch")
    )


def slow_link(proxy: HttpProxy, seed: int) -> None:
    """The link of the slow-link tests and benches: 0-200 ms added to every request, 503 to
    one document write in ten (drawn from `seed`)."""
    proxy.seed(seed)
    proxy.latency(0.0, 0.2)
    proxy.add(Rule("answer", document_write, status=503, chance=0.1))


def _framed(headers: Any, body: bytes) -> list[tuple[bytes, bytes]]:
    """The headers, with a Content-Length for the (possibly rewritten) body."""
    kept = [
        (name, value)
        for name, value in headers
        if name.lower() not in (b"content-length", b"transfer-encoding", b"connection")
    ]
    return [*kept, (b"content-length", str(len(body)).encode())]


def _forwarded(head: h11.Request, body: bytes) -> h11.Request:
    """The request as sent upstream: uncompressed answers, so rules can read them."""
    headers = [(n, v) for n, v in _framed(head.headers, body) if n.lower() != b"accept-encoding"]
    return h11.Request(method=head.method, target=head.target, headers=headers)


async def _receive(
    conn: h11.Connection, reader: asyncio.StreamReader, kind: type[Any]
) -> tuple[Any, bytes]:
    """One whole message (head and body); (None, b"") when the peer closed first."""
    head: Any = None
    body = bytearray()
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            data = await reader.read(CHUNK)
            conn.receive_data(data)
            if not data and head is None:
                return None, b""
            continue
        if isinstance(event, kind):
            head = event
        elif isinstance(event, h11.Data):
            body += event.data
        elif isinstance(event, h11.EndOfMessage):
            return head, bytes(body)
        elif isinstance(event, h11.ConnectionClosed):
            return None, b""


async def _send(conn: h11.Connection, writer: asyncio.StreamWriter, head: Any, body: bytes) -> None:
    data = conn.send(head) or b""
    if body:
        data += conn.send(h11.Data(data=body)) or b""
    data += conn.send(h11.EndOfMessage()) or b""
    writer.write(data)
    await writer.drain()
