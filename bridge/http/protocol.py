"""uvicorn's HTTP protocol with a deadline for a request's headers, and one for a client to read its answer.

uvicorn times out idle keep-alive connections only: a client sending a header line every few seconds holds its
connection (and a file descriptor) for as long as it likes. Here the headers must be complete within the
deadline of the connection's start (or of the first byte of the next request on it); otherwise 408 and the
connection is closed.

A request uvicorn's parser cannot read (a bad request line, header or framing: duplicate Content-Length,
Content-Length with chunked) is answered with JSON `{error, detail}` like every other refusal, not uvicorn's
plain-text 400.

A client that stops reading its answer (a live-feed subscriber, a proxied stream) blocked the response's next
write for good: uvicorn waits for the socket's buffer to drain, with no deadline, so the connection, its task, a
live-feed place and a proxied call's connection to Dify stayed held. Writes paused for `write_seconds` now abort
the connection.

Headers are bounded in size too (`MAX_HEADER_BYTES`, 431): the parser keeps them whole in memory, and within its
deadline a client could send gigabytes of them.
"""

from __future__ import annotations

import asyncio
import json

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


def _json_answer(status: str, error: str, detail: str) -> bytes:
    """A whole HTTP answer `{error, detail}` that closes the connection, written before any app sees the request."""
    body = json.dumps({"error": error, "detail": detail}).encode()
    head = f"HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\nconnection: close"
    return head.encode() + b"\r\n\r\n" + body


_MALFORMED = _json_answer(
    "400 Bad Request",
    "malformed_http",
    "the request is not valid HTTP/1.1: its request line, a header or its framing (Content-Length, "
    "Transfer-Encoding) cannot be read",
)


# Request line and headers, as Go's net/http bounds them (1 MiB, the Collector's server); nginx takes 8 KiB a line.
MAX_HEADER_BYTES = 1 << 20
_HEADERS_TOO_LARGE = _json_answer(
    "431 Request Header Fields Too Large",
    "headers_too_large",
    f"the request line and headers pass {MAX_HEADER_BYTES} bytes",
)
# How long a connection refused for its headers stays open, its bytes read and dropped, before it is closed.
_LINGER_S = 1.0


# How long a client may leave its answer unread (the socket's buffers full) before its connection is aborted.
WRITE_TIMEOUT_S = 60.0


def header_timeout_protocol(seconds: float, write_seconds: float = WRITE_TIMEOUT_S) -> type[HttpToolsProtocol]:
    """uvicorn's `http=` protocol class, with the header deadline `seconds` and the write deadline
    `write_seconds`."""
    too_slow = _json_answer(
        "408 Request Timeout", "header_timeout", f"the request headers were not complete within {seconds:g} s"
    )

    class HeaderDeadlineProtocol(HttpToolsProtocol):
        _deadline: asyncio.TimerHandle | None = None
        _header_bytes = 0  # of the chunks read while the current request's headers were not complete
        _refused = False
        _unread: asyncio.TimerHandle | None = None  # armed while writes are paused: the client is not reading

        def pause_writing(self) -> None:
            super().pause_writing()
            if self._unread is None:
                self._unread = self.loop.call_later(write_seconds, self.transport.abort)  # close() would flush first

        def resume_writing(self) -> None:
            self._stop_unread()
            super().resume_writing()

        def _stop_unread(self) -> None:
            if self._unread is not None:
                self._unread.cancel()
                self._unread = None

        def data_received(self, data: bytes) -> None:
            if self._refused:
                return  # read and dropped until the connection closes: see `_refuse_large_headers`
            waiting = self._deadline is not None  # armed: headers not complete yet
            super().data_received(data)
            if waiting and self._deadline is not None:  # a chunk of headers only
                self._header_bytes += len(data)
                if self._header_bytes > MAX_HEADER_BYTES:
                    self._refuse_large_headers()

        def _refuse_large_headers(self) -> None:
            """431, then the connection closed a second later: closed at once, with the client's bytes unread, it
            was reset, and a client still sending lost the answer."""
            self._disarm()
            self._refused = True
            self.transport.write(_HEADERS_TOO_LARGE)
            self.loop.call_later(_LINGER_S, self.transport.close)

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm()

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._arm()  # the next request on a kept-alive connection: a deadline of its own

        def on_headers_complete(self) -> None:
            self._disarm()
            super().on_headers_complete()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            self._stop_unread()
            super().connection_lost(exc)

        def _arm(self) -> None:
            if self._deadline is None:
                self._deadline = self.loop.call_later(seconds, self._too_slow)

        def _disarm(self) -> None:
            self._header_bytes = 0
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None

        def send_400_response(self, msg: str) -> None:
            self._disarm()
            self._close_with(_MALFORMED)

        def _too_slow(self) -> None:
            self._deadline = None
            self._close_with(too_slow)

        def _close_with(self, answer: bytes) -> None:
            if not self.transport.is_closing():
                self.transport.write(answer)
                self.transport.close()

    return HeaderDeadlineProtocol
