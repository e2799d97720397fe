"""An httpx client whose every connection goes through the outbound policy (bridge/management/outbound.py):
the proxy's and the poller's. Apart from the policy, which the config loads, so that only a bridge that makes
these connections imports httpx."""

from __future__ import annotations

import asyncio
import typing
from http.cookiejar import CookieJar, DefaultCookiePolicy

import httpcore2 as httpcore
import httpx2 as httpx
from httpcore2 import AsyncNetworkBackend, AsyncNetworkStream

from bridge.management.outbound import OutboundPolicy, OutboundRefused


class _CheckedBackend(AsyncNetworkBackend):
    """httpcore's network backend, dialling only addresses the policy takes (checked after resolution, so the
    address checked is the address connected to)."""

    def __init__(self, policy: OutboundPolicy) -> None:
        self._policy = policy
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
        socket_options: typing.Iterable[typing.Any] | None = None,
    ) -> AsyncNetworkStream:  # fmt: skip
        try:
            async with asyncio.timeout(timeout):
                addresses = await self._policy.addresses(host, port)
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"{host}: name resolution timed out") from None
        *others, last = addresses  # never empty
        for address in others:
            try:
                return await self._inner.connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout):
                continue  # the next address of the name
        return await self._inner.connect_tcp(last, port, timeout, local_address, socket_options)

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: typing.Iterable[typing.Any] | None = None
    ) -> AsyncNetworkStream:
        raise OutboundRefused("unix sockets are not reached")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def checked_client(policy: OutboundPolicy, limits: httpx.Limits, timeout: httpx.Timeout | float) -> httpx.AsyncClient:
    """A client for instances: every connection through the policy, no redirect followed, and no cookie kept.
    httpx keeps the cookies answers set and sends them with every later request: through the proxy, a cookie
    one client's call was given went with every other client's, and to every instance on that host (cookies
    ignore ports)."""
    no_cookies = CookieJar(DefaultCookiePolicy(allowed_domains=[]))
    return httpx.AsyncClient(
        transport=_checked_transport(policy, limits), timeout=timeout, follow_redirects=False, cookies=no_cookies
    )


def _checked_transport(policy: OutboundPolicy, limits: httpx.Limits) -> httpx.AsyncHTTPTransport:
    """An httpx transport whose every connection goes through the policy."""
    transport = httpx.AsyncHTTPTransport(limits=limits)
    # httpx does not take a network backend; its pool does. Pinned versions; tests/management/test_outbound.py
    # fails if this stops taking effect.
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=httpx.create_ssl_context(),
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        network_backend=_CheckedBackend(policy),
    )
    return transport
