"""Dify's service API as far as the proxy needs it, replaying answers recorded from Dify 1.14.1."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from tests.runs import CAPTURES

STREAM = (CAPTURES / "b_iteration_ifelse_http.sse").read_bytes()
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


class FakeDify:
    """Dify's service API as far as the proxy needs it, replaying recorded answers."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, str | None, bytes]] = []
        self.app = Starlette(routes=[Route("/v1/workflows/run", self.run, methods=["POST"]),
                                     Route("/v1/chat-messages", self.chat, methods=["POST"]),
                                     Route("/v1/parameters", self.parameters)])  # fmt: skip

    async def run(self, request: Request) -> Response:
        body = await request.body()
        self.seen.append(("POST", request.url.path, request.headers.get("authorization"), body))
        mode = json.loads(body).get("response_mode")
        if mode == "blocking":
            return Response(BLOCKING, media_type="application/json")
        if mode == "garbage":
            return Response(GARBAGE, media_type="text/event-stream")
        stream = STREAM_WITH_A_BAD_EVENT if mode == "bad_event" else STREAM

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
        self.seen.append(("GET", request.url.path, request.headers.get("authorization"), request.url.query.encode()))
        return Response(b'{"user_input_form": []}', media_type="application/json", headers={"x-dify": "yes"})
