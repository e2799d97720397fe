"""The credential a request carries, read from every header (or gRPC metadata entry) that may hold it."""

from __future__ import annotations

from collections.abc import Iterable

from bridge.http.errors import ApiError


def one_credential(values: Iterable[str], names: str) -> str | None:
    """The one credential a request carries in `values` (each header or metadata entry that may hold it, `names`
    saying which), or None. Two different ones are a 401: a client, proxy or gRPC library would otherwise
    decide which counts (HTTP read the first, gRPC the last); the same one repeated is fine."""
    found = {value for value in values if value}
    if len(found) > 1:
        detail = f"the request carries {len(found)} different credentials ({names}); send one"
        raise ApiError(401, "conflicting_credentials", detail)
    return next(iter(found), None)


def bearer_tokens(authorization: Iterable[str]) -> list[str]:
    """The tokens of `Authorization: Bearer <token>` values (any other scheme is no bearer token)."""
    tokens = []
    for header in authorization:
        scheme, _, token = header.partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            tokens.append(token.strip())
    return tokens
