"""Every HTTP error is a JSON body `{error, detail}` (`errors` too for a body with several faults): one exception
type and its handlers."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

# What an error repeats of the client's input, at the most: a 404 repeated a 5,000-character path whole.
_ECHO_CHARS = 200


def clip(text: str) -> str:
    """`text` (client input an error repeats back) cut to 200 characters, an ellipsis marking the cut."""
    return text if len(text) <= _ECHO_CHARS else f"{text[:_ECHO_CHARS]}…"


class ApiError(Exception):
    """Raised by handlers; `error` is a stable machine-readable code, `detail` a sentence for people, `errors`
    (when a body has several faults) each `{field, reason}`, for programs."""

    def __init__(
        self,
        status: int,
        error: str,
        detail: str,
        headers: dict[str, str] | None = None,
        errors: list[dict[str, str]] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status, self.error, self.detail, self.headers, self.errors = status, error, detail, headers, errors


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    body: dict[str, object] = {"error": exc.error, "detail": exc.detail}
    if exc.errors is not None:
        body["errors"] = exc.errors
    return JSONResponse(body, exc.status, headers=exc.headers)


async def _http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    error = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    return JSONResponse({"error": error, "detail": exc.detail}, exc.status_code, headers=exc.headers)


EXCEPTION_HANDLERS = {ApiError: _api_error, HTTPException: _http_exception}
