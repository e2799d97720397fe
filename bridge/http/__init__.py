"""The bridge's HTTP surface: the Starlette app, request bodies, the JSON error type, security headers,
the uvicorn protocol and the live view."""
