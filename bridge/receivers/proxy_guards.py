"""What keeps a few slow or greedy clients from holding the proxy for everyone: caps on proxied requests in
flight per client address and per instance, and a request body that must arrive in time (and, when small,
arrives whole before a connection to Dify is taken)."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Callable

from starlette.requests import ClientDisconnect, Request

from bridge.http.errors import ApiError


class BodyTimeout(Exception):
    """The client's body did not arrive within the deadline after part of it was forwarded."""


class InFlight:
    """Proxied requests in flight, counted per client address and per instance. Event loop only."""

    def __init__(self, per_client: int, per_instance: int) -> None:
        self.per_client, self.per_instance = per_client, per_instance
        self._clients: Counter[str] = Counter()
        self._instances: Counter[str] = Counter()

    def enter(self, client: str, instance: str) -> Callable[[], None]:
        """Counts the request in and returns its release (safe to call twice); ApiError 429 when the client,
        503 when the instance has its cap in flight already."""
        if self.per_client and self._clients[client] >= self.per_client:
            raise ApiError(429, "too_many_requests", f"{self.per_client} proxied requests from this address are in "
                           "flight already", {"Retry-After": "1"})  # fmt: skip
        if self.per_instance and self._instances[instance] >= self.per_instance:
            raise ApiError(503, "instance_busy", f"{self.per_instance} requests to instance {instance!r} are in "
                           "flight already", {"Retry-After": "1"})  # fmt: skip
        self._clients[client] += 1
        self._instances[instance] += 1
        released = False

        def release() -> None:
            nonlocal released
            if not released:
                released = True
                for counter, key in ((self._clients, client), (self._instances, instance)):
                    counter[key] -= 1
                    if not counter[key]:
                        del counter[key]

        return release


async def request_body(request: Request, buffer_bytes: int, timeout: float) -> bytes | AsyncIterator[bytes]:
    """The client's body: whole, when it ends within `buffer_bytes`; else those bytes and the rest as they come.
    All of it must arrive within `timeout` of the call: ApiError 408 while buffering, BodyTimeout later."""
    deadline = asyncio.get_running_loop().time() + timeout
    chunks = aiter(request.stream())
    head: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout_at(deadline):
            while size < buffer_bytes:
                try:
                    chunk = await anext(chunks)
                except StopAsyncIteration:
                    return b"".join(head)
                head.append(chunk)
                size += len(chunk)
    except TimeoutError:
        raise ApiError(408, "body_timeout", f"the body was not complete within {timeout:g} s") from None
    except ClientDisconnect:
        raise ApiError(400, "client_disconnected", "the client went away before its body was complete") from None
    return _rest(b"".join(head), chunks, deadline)


async def _rest(head: bytes, chunks: AsyncIterator[bytes], deadline: float) -> AsyncIterator[bytes]:
    yield head
    while True:
        try:
            async with asyncio.timeout_at(deadline):
                chunk = await anext(chunks)
        except StopAsyncIteration:
            return
        except TimeoutError:
            raise BodyTimeout from None
        yield chunk
