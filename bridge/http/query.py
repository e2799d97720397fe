"""Query parameters read one way everywhere: one given twice with different values is refused, not guessed at."""

from __future__ import annotations

from starlette.requests import Request

from bridge.http.errors import ApiError


def query_param(request: Request, name: str) -> str | None:
    """The value of `name` in the query string, or None. `?limit=1&limit=2` took the last value without a word
    (Starlette's `query_params.get`) where a proxy or log in front may read the first: different values are a 400
    naming the parameter; the same value repeated is fine, as for headers."""
    values = request.query_params.getlist(name)
    if len(set(values)) > 1:
        shown = ", ".join(repr(value[:40]) for value in values[:5])
        raise ApiError(400, "repeated_query_parameter", f"{name}: given {len(values)} times ({shown}); send it once")
    return values[0] if values else None
