"""The daily LLM quota on search and chat: checked before forwarding, counted when an LLM ran."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from collections_devtools.testing.api import sign_up


class SearchUpstream:
    """Search and chat over HTTP: answers with a set ``llm_calls`` (chat: a header, or a set
    refusal) and counts requests."""

    def __init__(self) -> None:
        self.llm_calls: int | str = 0
        self.chat_status = 200
        self.requests = 0
        handler = self._handler()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length") or 0))
                upstream.requests += 1
                if self.path.startswith("/chat"):
                    self._chat()
                    return
                body = {
                    "results": [],
                    "answer": None,
                    "mode": "agentic",
                    "took_ms": 1.0,
                    "llm_calls": upstream.llm_calls,
                }
                payload = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def _chat(self) -> None:
                stream = self.path == "/chat/stream"
                if upstream.chat_status != 200:
                    payload = json.dumps({"code": "empty_message"}).encode()
                    kind = "application/problem+json"
                elif stream:
                    payload = b'event: done\ndata: {"reply": "hi"}\n\n'
                    kind = "text/event-stream"
                else:
                    payload = json.dumps({"session_id": "s", "reply": "hi", "citations": []})
                    payload, kind = payload.encode(), "application/json"
                self.send_response(upstream.chat_status)
                self.send_header("content-type", kind)
                self.send_header("content-length", str(len(payload)))
                if upstream.chat_status == 200:
                    self.send_header("llm-calls", str(upstream.llm_calls))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                """Quiet."""

        return Handler


@pytest.fixture(name="upstream")
def fx_upstream() -> Iterator[SearchUpstream]:
    upstream = SearchUpstream()
    thread = threading.Thread(target=upstream.server.serve_forever, daemon=True)
    thread.start()
    yield upstream
    upstream.server.shutdown()
    upstream.server.server_close()


async def test_llm_quota_counts_only_searches_that_called_the_llm(
    gateway: Callable[..., Any], upstream: SearchUpstream
) -> None:
    """Agentic searches answered without the LLM are free; two that used it spend a quota of 2,
    and the third is refused before it reaches the search service."""
    async with gateway(daily_llm_quota=2, search_url=upstream.url) as client:
        alice = await sign_up(client, f"quota-{uuid.uuid4().hex[:8]}@example.com")
        search = {"query": "receipts last winter", "mode": "agentic", "answer": True}

        free = [
            (await client.post("/search", json=search, headers=alice.headers)).status_code
            for _ in range(4)
        ]
        upstream.llm_calls = 3
        charged = [
            (await client.post("/search", json=search, headers=alice.headers)).status_code
            for _ in range(2)
        ]
        refused = await client.post("/search", json=search, headers=alice.headers)

    assert [200] * 4 == free
    assert [200, 200] == charged
    assert 429 == refused.status_code
    assert "llm_calls_quota_exceeded" == refused.json()["code"]
    assert 6 == upstream.requests


async def test_plain_searches_never_touch_the_llm_quota(
    gateway: Callable[..., Any], upstream: SearchUpstream
) -> None:
    """A hybrid search without an answer is not checked against the LLM quota at all."""
    upstream.llm_calls = 1  # even if a confused upstream said so
    async with gateway(daily_llm_quota=1, search_url=upstream.url) as client:
        alice = await sign_up(client, f"quota-{uuid.uuid4().hex[:8]}@example.com")
        codes = [
            (await client.post("/search", json={"query": "x"}, headers=alice.headers)).status_code
            for _ in range(3)
        ]
    assert [200, 200, 200] == codes


async def test_an_unreadable_usage_counts_as_a_call(
    gateway: Callable[..., Any], upstream: SearchUpstream
) -> None:
    """If the response's ``llm_calls`` cannot be read, the search is charged (the safe side)."""
    upstream.llm_calls = "many"
    async with gateway(daily_llm_quota=1, search_url=upstream.url) as client:
        alice = await sign_up(client, f"quota-{uuid.uuid4().hex[:8]}@example.com")
        search = {"query": "x", "answer": True}
        first = await client.post("/search", json=search, headers=alice.headers)
        second = await client.post("/search", json=search, headers=alice.headers)
    assert (200, 429) == (first.status_code, second.status_code)


@pytest.mark.parametrize("path", ["/chat", "/chat/stream"])
async def test_chat_turns_spend_the_llm_quota_only_when_a_model_answered(
    gateway: Callable[..., Any], upstream: SearchUpstream, path: str
) -> None:
    """Offline and refused turns are free; two Claude turns spend a quota of 2, the third is 429."""
    async with gateway(daily_llm_quota=2, chat_url=upstream.url) as client:
        alice = await sign_up(client, f"quota-{uuid.uuid4().hex[:8]}@example.com")

        async def turn() -> int:
            response = await client.post(path, json={"message": "hi"}, headers=alice.headers)
            return response.status_code

        offline = [await turn() for _ in range(3)]
        upstream.chat_status = 422
        rejected = [await turn() for _ in range(3)]
        upstream.chat_status, upstream.llm_calls = 200, 1
        charged = [await turn() for _ in range(2)]
        refused = await client.post(path, json={"message": "hi"}, headers=alice.headers)

    assert ([200] * 3, [422] * 3, [200] * 2) == (offline, rejected, charged)
    assert (429, "llm_calls_quota_exceeded") == (refused.status_code, refused.json()["code"])
    assert 8 == upstream.requests
