"""A local fake of the Anthropic Messages API (and of Bedrock's invoke route), for tests.

The real SDKs are pointed at it (``base_url``), so tests exercise the SDK, the wire format and our
error mapping without a key or a network. Each test scripts the replies it wants, in order; once
the script runs out the server answers with :func:`tool_use_reply` of :data:`SAMPLE_ANALYSIS`.
Every request is recorded, so tests can assert what was sent.

    with FakeAnthropic() as fake:
        fake.script(rate_limited(retry_after="1"), tool_use_reply({...}))
        client = anthropic.AsyncAnthropic(api_key="test", base_url=fake.url)

A scripted entry may also be a function of the request (a :data:`Responder`), for replies that
depend on what the client sent, such as a tool loop answering from its last tool result; one
given as ``FakeAnthropic(default=...)`` answers every request once the script runs out.

Routes: ``POST /v1/messages`` (Anthropic API), ``POST /model/{model}/invoke`` (Bedrock, where the
model is in the path and the body carries ``anthropic_version``) and
``POST /model/{model}/invoke-with-response-stream`` (Bedrock streaming: a :func:`streamed_reply`
is re-framed as the AWS event stream Bedrock sends, one ``chunk`` per server-sent event). It runs
in a thread, so it works from sync and async tests alike.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import json
import struct
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

SAMPLE_ANALYSIS: dict[str, Any] = {
    "category": "animals",
    "headline": "Dog catching a frisbee at the beach",
    "summary": "A brown dog catching a red frisbee on a beach.",
    "description": "A brown dog leaps to catch a red frisbee above wet sand at low tide.",
    "subcategories": ["pets", "beach day"],
    "tags": ["dog", "frisbee", "beach", "jumping"],
    "objects": ["dog", "frisbee"],
    "text_lines": [],
    "colors": ["brown", "red", "blue"],
    "setting": "outdoor beach",
    "places": [],
    "poster": "",
    "accounts": [],
    "hashtags": [],
    "audio": "",
    "themes": ["pets", "play"],
    "emotions": ["joy"],
    "vibes": ["sunny", "energetic"],
    "visual_hierarchy": ["dog in mid-air", "red frisbee", "waves"],
    "key_interest": "the dog's leap",
    "likely_source": "camera photo",
}
"""A complete schema v2 answer (every field the tool asks for) about a photo."""

SAMPLE_SCREENSHOT_ANALYSIS: dict[str, Any] = {
    "category": "screenshots",
    "headline": "Best ramen in Shinjuku under ¥1,500",
    "summary": "An Instagram post recommending a tonkotsu ramen shop in Shinjuku.",
    "description": "A phone screenshot of an Instagram post: a bowl of ramen, the caption "
    "naming the shop and its price, and hashtags below.",
    "subcategories": ["travel tip", "restaurant"],
    "tags": ["ramen", "tokyo", "restaurant", "noodles", "travel"],
    "objects": ["bowl", "chopsticks", "egg"],
    "text_lines": [
        "tokyofoodie",
        "Best ramen in Shinjuku under ¥1,500",
        "Fuunji, 2-14-3 Yoyogi - tsukemen ¥1,200",
        "tag @ramen.club for more",
        "#ramen #tokyoeats",
    ],
    "colors": ["beige", "black", "orange"],
    "setting": "indoor restaurant counter",
    "places": ["Fuunji", "Shinjuku", "Tokyo"],
    "poster": "@tokyofoodie",
    "accounts": ["@ramen.club"],
    "hashtags": ["#ramen", "#tokyoeats"],
    "audio": "",
    "themes": ["food", "travel", "budget"],
    "emotions": ["appetite"],
    "vibes": ["cozy"],
    "visual_hierarchy": ["bowl of ramen", "headline", "price"],
    "key_interest": "tsukemen for ¥1,200 at Fuunji",
    "likely_source": "instagram",
}
"""A complete schema v2 answer about a social-post screenshot."""

_ids = itertools.count(1)


@dataclass(frozen=True)
class Reply:
    """One scripted answer: a status, a JSON (or raw) body, headers and an optional delay."""

    status: int = 200
    body: dict[str, Any] | bytes = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    """Seconds to wait before answering (longer than the client's timeout = a timeout)."""


@dataclass(frozen=True)
class RecordedRequest:
    """What a client sent."""

    method: str
    path: str
    headers: dict[str, str]
    """Lower-cased header names."""
    body: Any
    """The JSON body, or ``None`` if it was not JSON."""

    @property
    def model(self) -> str:
        """The model, from the body (Anthropic API) or the path (Bedrock)."""
        if self.path.startswith("/model/"):
            return unquote(self.path.split("/")[2])
        return str(self.body.get("model", "")) if isinstance(self.body, dict) else ""


Responder = Callable[[RecordedRequest], Reply]
"""A reply computed from the request it answers."""


def tool_use_block(name: str, tool_input: Any) -> dict[str, Any]:
    """A ``tool_use`` content block, for :func:`message_reply` with several blocks."""
    return {
        "type": "tool_use",
        "id": f"toolu_fake{next(_ids):06d}",
        "name": name,
        "input": tool_input,
    }


def message_reply(
    content: list[dict[str, Any]],
    *,
    stop_reason: str = "tool_use",
    model: str = "claude-sonnet-5-5",
    input_tokens: int = 1500,
    output_tokens: int = 200,
) -> Reply:
    """A 200 with a Messages API ``message`` carrying ``content`` blocks."""
    body = {
        "id": f"msg_fake{next(_ids):06d}",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens},
    }
    return Reply(body=body, headers={"request-id": f"req_fake{next(_ids):06d}"})


def tool_use_reply(tool_input: Any, *, name: str = "record_analysis", **kwargs: Any) -> Reply:
    """The model calling tool ``name`` with ``tool_input`` (any JSON, valid or not)."""
    return message_reply([tool_use_block(name, tool_input)], **kwargs)


def streamed_reply(*blocks: tuple[str, Any], stop_reason: str = "end_turn") -> Reply:
    """A Messages API response in its streaming wire format (server-sent events).

    Each block is ``("text", "words")`` (sent as several text deltas, one per word) or
    ``("tool_use", {"name": ..., "input": {...}})`` (its input sent as partial JSON).
    """
    events: list[dict[str, Any]] = [
        {
            "type": "message_start",
            "message": {
                "id": f"msg_fake{next(_ids):06d}",
                "type": "message",
                "role": "assistant",
                "content": [],
                "model": "claude-haiku-4-5",
                "stop_reason": None,
                "stop_sequence": None,
                "usage": {"input_tokens": 100, "output_tokens": 1},
            },
        }
    ]
    for index, (kind, value) in enumerate(blocks):
        if kind == "text":
            events.append(_block_start(index, {"type": "text", "text": ""}))
            words = value.split(" ")
            deltas = [word + " " for word in words[:-1]] + [words[-1]]
            events += [_block_delta(index, {"type": "text_delta", "text": d}) for d in deltas]
        else:
            block = {"type": "tool_use", "id": f"toolu_fake{next(_ids):06d}", "input": {}}
            events.append(_block_start(index, {**block, "name": value["name"]}))
            partial = {"type": "input_json_delta", "partial_json": json.dumps(value["input"])}
            events.append(_block_delta(index, partial))
        events.append({"type": "content_block_stop", "index": index})
    events.append(
        {
            "type": "message_delta",
            "delta": {"stop_reason": stop_reason, "stop_sequence": None},
            "usage": {"output_tokens": 20},
        }
    )
    events.append({"type": "message_stop"})
    body = "".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n" for e in events)
    return Reply(body=body.encode(), headers={"content-type": "text/event-stream"})


def _block_start(index: int, block: dict[str, Any]) -> dict[str, Any]:
    return {"type": "content_block_start", "index": index, "content_block": block}


def _block_delta(index: int, delta: dict[str, Any]) -> dict[str, Any]:
    return {"type": "content_block_delta", "index": index, "delta": delta}


def text_reply(text: str, *, stop_reason: str = "end_turn") -> Reply:
    """The model answering in prose instead of calling the tool."""
    return message_reply([{"type": "text", "text": text}], stop_reason=stop_reason)


def error_reply(
    status: int, error_type: str, message: str = "", headers: dict[str, str] | None = None
) -> Reply:
    """An API error in the documented shape ``{"type": "error", "error": {...}}``."""
    body = {"type": "error", "error": {"type": error_type, "message": message or error_type}}
    return Reply(status=status, body=body, headers=headers or {})


def rate_limited(retry_after: str | None = None, retry_after_ms: str | None = None) -> Reply:
    """429 ``rate_limit_error``, with ``retry-after`` / ``retry-after-ms`` when given."""
    headers = {}
    if retry_after is not None:
        headers["retry-after"] = retry_after
    if retry_after_ms is not None:
        headers["retry-after-ms"] = retry_after_ms
    return error_reply(429, "rate_limit_error", "Number of requests exceeded", headers)


def overloaded() -> Reply:
    """529 ``overloaded_error``."""
    return error_reply(529, "overloaded_error", "Overloaded")


def server_error(status: int = 500) -> Reply:
    """A 5xx ``api_error``."""
    return error_reply(status, "api_error", "Internal server error")


def slow(reply: Reply, seconds: float) -> Reply:
    """``reply``, sent only after ``seconds``."""
    return Reply(status=reply.status, body=reply.body, headers=reply.headers, delay=seconds)


class FakeAnthropic:
    """The fake server; use it as a context manager, or call :meth:`start` and :meth:`close`."""

    def __init__(self, default: Responder | None = None) -> None:
        self.requests: list[RecordedRequest] = []
        self._replies: deque[Reply | Responder] = deque()
        self._default = default
        self.failing: Reply | None = None
        """While set, every request gets this reply (an outage), script or not."""
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        """The base URL to give the SDK."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def script(self, *replies: Reply | Responder) -> None:
        """Queue replies, answered in order before falling back to the default success."""
        with self._lock:
            self._replies.extend(replies)

    def next_reply(self) -> Reply | Responder:
        """The next scripted reply; once the script is exhausted, the default responder or a
        valid analysis."""
        failing = self.failing
        if failing is not None:
            return failing
        with self._lock:
            if self._replies:
                return self._replies.popleft()
        return self._default or tool_use_reply(SAMPLE_ANALYSIS)

    def reply_for(self, request: RecordedRequest) -> Reply:
        """The reply to send to ``request``."""
        reply = self.next_reply()
        return reply if isinstance(reply, Reply) else reply(request)

    def record(self, request: RecordedRequest) -> None:
        """Keep a request for the test's assertions."""
        with self._lock:
            self.requests.append(request)

    def wait(self, seconds: float) -> None:
        """Sleep for a slow reply, cut short when the server closes."""
        self._closing.wait(seconds)

    def start(self) -> FakeAnthropic:
        """Serve in a background thread."""
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving and release the port."""
        self._closing.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeAnthropic:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.close()


def bedrock_stream(reply: Reply) -> Reply:
    """A streamed reply (server-sent events) as Bedrock's event stream; errors stay as they are."""
    if reply.status != 200 or not isinstance(reply.body, bytes):
        return reply
    frames = b""
    for block in reply.body.decode().split("\n\n"):
        data = "".join(
            line.removeprefix("data:").strip()
            for line in block.splitlines()
            if line.startswith("data:")
        )
        if data:
            chunk = {"bytes": base64.b64encode(data.encode()).decode()}
            frames += _event_frame(json.dumps(chunk).encode())
    headers = {"content-type": "application/vnd.amazon.eventstream"}
    return Reply(status=200, body=frames, headers=headers, delay=reply.delay)


def _event_frame(payload: bytes) -> bytes:
    """One message of the AWS event stream encoding: prelude, string headers, payload, CRCs."""
    headers = b""
    for name, value in (
        (":event-type", "chunk"),
        (":content-type", "application/json"),
        (":message-type", "event"),
    ):
        headers += bytes([len(name)]) + name.encode() + b"\x07"
        headers += struct.pack(">H", len(value)) + value.encode()
    total = 12 + len(headers) + len(payload) + 4
    prelude = struct.pack(">II", total, len(headers))
    prelude += struct.pack(">I", binascii.crc32(prelude))
    message = prelude + headers + payload
    return message + struct.pack(">I", binascii.crc32(message))


def _handler_for(fake: FakeAnthropic) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length)
            try:
                body = json.loads(raw)
            except ValueError:
                body = None
            headers = {name.lower(): value for name, value in self.headers.items()}
            request = RecordedRequest("POST", self.path, headers, body)
            fake.record(request)
            path = self.path.split("?")[0]
            if path.startswith("/model/") and path.endswith("/invoke-with-response-stream"):
                self._send(bedrock_stream(fake.reply_for(request)))
                return
            if path != "/v1/messages" and not (
                path.startswith("/model/") and path.endswith("/invoke")
            ):
                self._send(error_reply(404, "not_found_error", f"no route {self.path}"))
                return
            self._send(fake.reply_for(request))

        def _send(self, reply: Reply) -> None:
            if reply.delay:
                fake.wait(reply.delay)
            payload = (
                reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body).encode()
            )
            try:
                self.send_response(reply.status)
                headers = {"content-type": "application/json", **reply.headers}
                headers["content-length"] = str(len(payload))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test); nothing to answer

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
            """Keep test output quiet."""

    return Handler
