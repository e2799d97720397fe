"""Where a registered instance's base URL may lead: the outbound policy of the proxy and the poller.

Without it the proxy is a relay for anyone who can register an instance: a base URL on loopback, a private
network or the cloud metadata address (169.254.169.254) would carry the proxy's requests there. Base URLs are
checked when declared or registered (shape, and literal addresses), and every connection is checked again
after DNS resolution, to the address actually dialled, so a name that resolves (or later rebinds) to a refused
address is refused too.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

_Address = ipaddress.IPv4Address | ipaddress.IPv6Address
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052's well-known prefix
# A host name as DNS spells it (and underscores, as in compose container names); anything else (percent signs,
# backslashes, spaces) is refused outright.
_HOST_NAME = re.compile(r"^[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*$")


class OutboundConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Networks (CIDR) instance base URLs may reach besides public addresses, e.g. ["127.0.0.1/32"] for a Dify
    # on this machine. Loopback, private, link-local, shared, unspecified, multicast and reserved addresses are
    # refused unless listed. Empty: public addresses only.
    allowed_networks: list[str] = Field(default_factory=list)
    # Host names reached whatever they resolve to (no address check), e.g. ["api"] for Dify's API container on
    # a compose network. Empty: every name's addresses are checked.
    allowed_hosts: list[str] = Field(default_factory=list)

    @field_validator("allowed_networks")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for position, network in enumerate(value):
            try:
                ipaddress.ip_network(network, strict=False)
            except ValueError:
                raise ValueError(f'"allowed_networks"[{position}]: {network!r} is not a CIDR network') from None
        return value

    @field_validator("allowed_hosts")
    @classmethod
    def _hosts(cls, value: list[str]) -> list[str]:
        return [host.lower().rstrip(".") for host in value]


class OutboundRefused(Exception):
    """A base URL or an address the policy refuses; the message says which and why (no secret in it)."""


class OutboundPolicy:
    """Checks base URLs and the addresses connections go to. Immutable, thread-safe."""

    def __init__(self, cfg: OutboundConfig) -> None:
        self._networks = [ipaddress.ip_network(network, strict=False) for network in cfg.allowed_networks]
        self._hosts = frozenset(cfg.allowed_hosts)

    def check_base_url(self, base_url: str) -> str:
        """The base URL without a trailing slash, or OutboundRefused: not http(s), a user or password, a query
        or fragment (they would swallow the `/v1/...` joined after it), an odd host spelling, a refused
        literal address."""
        # urlsplit drops tabs and line breaks unseen, so `http://dify:5001/\r\nX: y` passed here, was stored and
        # listed, and every call through it was a 502.
        odd = next((char for char in base_url if char.isspace() or not char.isprintable()), None)
        if odd is not None:
            raise OutboundRefused(f"base_url must not hold spaces or control characters, got {odd!r}")
        try:
            parts = urlsplit(base_url)
        except ValueError:  # `http://[::1` and the like
            raise OutboundRefused("base_url is not a valid URL") from None
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise OutboundRefused("base_url must be http:// or https:// with a host")
        if "?" in base_url or "#" in base_url:
            raise OutboundRefused("base_url must not have a query or fragment")
        if "@" in parts.netloc:
            raise OutboundRefused("base_url must not hold a user name or password")
        try:
            parts.port  # noqa: B018 (raises on a port that is not a number from 0 to 65535)
        except ValueError:
            raise OutboundRefused("base_url has an invalid port") from None
        self.check_host(parts.hostname or "")
        return base_url.rstrip("/")

    def join(self, base_url: str, path: str, query: str = "") -> str:
        """`base_url` + `path` (+ `?query`), checked as httpx will send it: the base's origin, the path under
        the base's `/v1/`, no fragment; or OutboundRefused. `path` starts with `/v1/`, its specials encoded."""
        import httpx2 as httpx  # loaded by the first request to an instance (the config loads this module)

        checked = self.check_base_url(base_url)
        url = checked + path + (f"?{query}" if query else "")
        try:
            base, joined = httpx.URL(checked), httpx.URL(url)
        except httpx.InvalidURL as exc:
            raise OutboundRefused(f"the joined URL is not valid: {exc}") from None
        within = joined.path.startswith(base.path.rstrip("/") + "/v1/")
        if (joined.scheme, joined.host, joined.port) != (base.scheme, base.host, base.port) or not within:
            raise OutboundRefused("the joined URL leaves the instance's /v1/")
        if joined.fragment:
            raise OutboundRefused("the joined URL has a fragment")
        return url

    def check_host(self, host: str) -> None:
        """OutboundRefused unless `host` is an allowed name, a DNS-shaped name, or an address the policy takes."""
        host = host.lower()
        if host.rstrip(".") in self._hosts:
            return
        address = _literal(host)
        if address is not None:
            self.check_address(address)
        elif not _HOST_NAME.match(host.rstrip(".")):
            raise OutboundRefused(f"{host!r} is neither a host name nor an address written out in full")

    def check_address(self, address: _Address) -> None:
        if isinstance(address, ipaddress.IPv6Address):
            # IPv6 spellings of an IPv4 address (mapped, 6to4, NAT64) reach that address: judged by it.
            nat64 = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF) if address in _NAT64 else None
            address = address.ipv4_mapped or address.sixtofour or nat64 or address
        reason = self._refusal(address)
        if reason:
            raise OutboundRefused(f"{address} is {reason}; allow it in server.outbound.allowed_networks")

    def _refusal(self, address: _Address) -> str | None:
        if any(address in network for network in self._networks):
            return None
        for kind in ("loopback", "link_local", "private", "unspecified", "multicast", "reserved"):
            if getattr(address, f"is_{kind}"):
                return f"a {kind.replace('_', '-')} address"
        return None if address.is_global else "not a public address"

    async def addresses(self, host: str, port: int) -> list[str]:
        """The addresses to dial for `host`, every one checked (any refused one refuses the name: a name that
        resolves partly inward is not trusted), or OutboundRefused. Allowed host names are resolved by the
        system as usual."""
        import httpcore2 as httpcore  # as in `join`

        self.check_host(host)
        if host.lower().rstrip(".") in self._hosts or _literal(host) is not None:
            return [host]
        try:
            found = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise httpcore.ConnectError(f"{host}: {exc.strerror}") from None
        addresses = list(dict.fromkeys(str(info[4][0]) for info in found))
        if not addresses:
            raise httpcore.ConnectError(f"{host}: no address")
        for address in addresses:
            try:
                self.check_address(ipaddress.ip_address(address))
            except OutboundRefused as refused:
                raise OutboundRefused(f"{host} resolves to {refused}") from None
        return addresses


def without_password(url: str) -> str:
    """`url` with its user name and password shown as `***` (base URLs an older bridge stored with them)."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return parts._replace(netloc="***@" + parts.netloc.rpartition("@")[2]).geturl()


def _literal(host: str) -> _Address | None:
    """The address `host` spells, or None for a name. Numeric spellings other than dotted quads
    (`2130706433`, `0x7f.1`, `127.1`, `0177.0.0.1`) reach an address too, through the C resolver, so they
    are refused rather than guessed at."""
    host = host.strip("[]")
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    try:
        socket.inet_aton(host)
    except OSError:
        return None
    raise OutboundRefused(f"{host!r}: write the address as a dotted quad (a.b.c.d)")
