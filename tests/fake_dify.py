"""Dify's service API as far as the proxy needs it, replaying answers recorded from Dify 1.14.1."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from tests.runs import CAPTURES

STREAM = (CAPTURES / "b_iteration_ifelse_http.sse").read_bytes()
# Real Dify answers with the headers Dify sent (`<name>.headers`: status line, then `Name: value` lines).
RECORDED = Path(__file__).parent / "receivers" / "testdata" / "proxy"
BLOCKING = (CAPTURES / "f_simple_http_blocking.json").read_bytes()
CHAT_BLOCKING = (CAPTURES / "h2_chatflow_blocking.json").read_bytes()
# An LLM chatflow's blocking answer (with the model's usage), recorded from Dify 1.14.1 later.
LLM_CHAT_BLOCKING = (CAPTURES.parent / "dify-1.14.1-api" / "chat_blocking_llm_chatflow.json").read_bytes()
DIFY_KEY = "Bearer app-dify-secret-key"
GARBAGE = b'data: {"event": "node_started", "data": {}}\n\ndata: {not json\n\n\xff\xfe\n\n'
# The recorded stream with an event normalization refuses (a duration that is no number) after its first.
_FIRST = STREAM.index(b"\n\n", STREAM.index(b"data: ")) + 2
STREAM_WITH_A_BAD_EVENT = (
    STREAM[:_FIRST]
    + b'data: {"event": "node_finished", "workflow_run_id": "r", "data": {"node_id": "n", "elapsed_time": "soon"}}\n\n'
    + STREAM[_FIRST:]
)

# The recorded stream with an event naming a node id that is no id (a line break) after its first.
STREAM_WITH_A_BAD_ID = (
    STREAM[:_FIRST]
    + b'data: {"event": "node_started", "workflow_run_id": "r", "data": {"id": "e", "node_id": "n\\nforged"}}\n\n'
    + STREAM[_FIRST:]
)


class FakeDify:
    """Dify's service API as far as the proxy needs it, replaying recorded answers."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, str | None, bytes]] = []
        self.headers: list[dict[str, str]] = []  # every request's headers, in order
        self.app = Starlette(routes=[Route("/v1/workflows/run", self.run, methods=["POST"]),
                                     Route("/v1/chat-messages", self.chat, methods=["POST"]),
                                     Route("/v1/parameters", self.parameters),
                                     Route("/v1/moved", self.moved),
                                     Route("/v1/files/upload", self.upload, methods=["POST"]),
                                     Route("/v1/slow", self.slow),
                                     Route("/v1/drip", self.drip),
                                     Route("/v1/recorded/{name}", self.recorded, methods=["POST"])])  # fmt: skip

    async def run(self, request: Request) -> Response:
        body = await request.body()
        self.seen.append(("POST", request.url.path, request.headers.get("authorization"), body))
        mode = json.loads(body).get("response_mode")
        if mode == "blocking":
            return Response(BLOCKING, media_type="application/json")
        if mode == "garbage":
            return Response(GARBAGE, media_type="text/event-stream")
        if mode == "blocking_unreadable":  # a JSON answer that is no run
            return Response(b'{"result": "not a run"}', media_type="application/json")
        stream = {"bad_event": STREAM_WITH_A_BAD_EVENT, "bad_id": STREAM_WITH_A_BAD_ID}.get(mode, STREAM)

        async def chunks() -> AsyncIterator[bytes]:
            # Odd chunk sizes, so events straddle chunk boundaries as they do on a real network.
            for start in range(0, len(stream), 777):
                yield stream[start : start + 777]
                await asyncio.sleep(0.001)

        return StreamingResponse(chunks(), media_type="text/event-stream")

    async def chat(self, request: Request) -> Response:
        """A chatflow's blocking answer, as Dify 1.14.1 gives it: no workflow run id. The LLM chatflow's for a
        query naming it."""
        body = await request.body()
        self.seen.append(("POST", request.url.path, request.headers.get("authorization"), body))
        llm = json.loads(body).get("query") == "llm"
        return Response(LLM_CHAT_BLOCKING if llm else CHAT_BLOCKING, media_type="application/json")

    async def parameters(self, request: Request) -> Response:
        self.headers.append(dict(request.headers))
        self.seen.append(("GET", request.url.path, request.headers.get("authorization"), request.url.query.encode()))
        # A cookie (the console's session, say), and a header only for this hop: neither meant for other clients.
        headers = {"x-dify": "yes", "set-cookie": f"session={request.url.query}", "connection": "x-hop", "x-hop": "1"}
        response = Response(b'{"user_input_form": []}', media_type="application/json", headers=headers)
        response.raw_headers.append((b"set-cookie", b"theme=dark; Expires=Wed, 09 Jun 2027 10:18:14 GMT"))
        return response

    async def moved(self, request: Request) -> Response:
        """A redirect to `/v1/parameters`, which a client following it would ask next."""
        self.seen.append(("GET", request.url.path, request.headers.get("authorization"), b""))
        return Response(status_code=302, headers={"location": "/v1/parameters"})

    async def upload(self, request: Request) -> Response:
        """Answers with the size and the SHA-256 of the body it received."""
        body = await request.body()
        return Response(json.dumps({"size": len(body), "sha256": hashlib.sha256(body).hexdigest()}),
                        media_type="application/json")  # fmt: skip

    async def slow(self, request: Request) -> Response:
        """Answers after `?seconds=` (a Dify busy with a long blocking run)."""
        self.seen.append(("GET", request.url.path, request.headers.get("authorization"), request.url.query.encode()))
        await asyncio.sleep(float(request.query_params.get("seconds", "5")))
        return Response(b"{}", media_type="application/json")

    async def drip(self, request: Request) -> Response:
        """An event every 0.1 s for `?seconds=` (a long streaming run)."""

        async def events() -> AsyncIterator[bytes]:
            for _ in range(int(float(request.query_params.get("seconds", "5")) * 10)):
                yield b"event: ping\n\n"
                await asyncio.sleep(0.1)

        return StreamingResponse(events(), media_type="text/event-stream")

    async def recorded(self, request: Request) -> Response:
        """A recorded answer (`RECORDED/<name>.json` or `.sse`) with the headers Dify sent, byte for byte but
        `Transfer-Encoding` (this server chunks a stream itself)."""
        name = request.path_params["name"]
        lines = (RECORDED / f"{name}.headers").read_text().splitlines()[1:]
        headers = [tuple(line.split(": ", 1)) for line in lines if not line.lower().startswith("transfer-encoding")]
        raw = [(k.lower().encode(), v.encode()) for k, v in headers]
        body_file = RECORDED / f"{name}.json"
        if body_file.exists():
            response = Response(body_file.read_bytes())
        else:
            stream = (RECORDED / f"{name}.sse").read_bytes()

            async def chunks() -> AsyncIterator[bytes]:
                for start in range(0, len(stream), 777):
                    yield stream[start : start + 777]

            response = StreamingResponse(chunks())
        response.raw_headers = raw
        return response
