"""Query parameters read one way everywhere: one given twice with different values, or one the endpoint does not
know, is refused, not guessed at."""

from __future__ import annotations

from starlette.requests import Request

from bridge.http.errors import ApiError, clip


def query_param(request: Request, name: str) -> str | None:
    """The value of `name` in the query string, or None. `?limit=1&limit=2` took the last value without a word
    (Starlette's `query_params.get`) where a proxy or log in front may read the first: different values are a 400
    naming the parameter; the same value repeated is fine, as for headers."""
    values = request.query_params.getlist(name)
    if len(set(values)) > 1:
        shown = ", ".join(repr(value[:40]) for value in values[:5])
        raise ApiError(400, "repeated_query_parameter", f"{name}: given {len(values)} times ({shown}); send it once")
    return values[0] if values else None


def require_known(request: Request, known: tuple[str, ...]) -> None:
    """400 naming a query parameter not in `known`, and the known ones: `?LIMIT=5` was ignored without a word and
    answered with the default 100 entries (names are case-sensitive, as Starlette reads them)."""
    unknown = [name for name in request.query_params if name not in known]
    if unknown:
        accepted = ", ".join(known) if known else "none"
        detail = f"unknown query parameter {clip(unknown[0])!r}; known: {accepted}"
        raise ApiError(400, "unknown_query_parameter", detail)
