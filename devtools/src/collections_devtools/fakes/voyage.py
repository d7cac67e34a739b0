"""A local fake of Voyage AI's embeddings API, so tests drive the real ``voyageai`` SDK.

It speaks the documented wire format of ``POST /v1/embeddings``: a JSON body with ``input`` (a
string or a list of strings), ``model``, ``input_type`` (null, ``query`` or ``document``),
``truncation``, ``output_dimension``, ``output_dtype`` and ``encoding_format`` (null or
``base64``, which the SDK always sends), answered by ``{"object": "list", "data": [{"object":
"embedding", "embedding": ..., "index": i}], "model": ..., "usage": {"total_tokens": n}}``;
errors are ``{"detail": "..."}`` with the status code.

By default every request succeeds with deterministic unit vectors. Tests script what comes next
(:meth:`FakeVoyage.script`): a 429 with ``Retry-After``, a 5xx, a slow answer, or a malformed one;
every request is recorded. Run it alone for a stack: ``python -m
collections_devtools.fakes.voyage --port 8090``, then ``EMBEDDING_VOYAGE_BASE_URL``.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import json
import sys
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np

DEFAULT_DIMENSIONS = 1024
MAX_INPUTS = 1000
"""Voyage's documented limit on the length of ``input``."""


@dataclass(frozen=True)
class Reply:
    """One scripted answer; the defaults make a correct one."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    detail: str = "scripted failure"
    delay: float = 0.0
    """Seconds to wait before answering (a timeout test)."""
    drop: int = 0
    """Vectors left out of an otherwise good answer."""
    dimensions: int | None = None
    """Vector length to send instead of the requested one."""
    nan: bool = False
    """Put a NaN into the first vector."""
    body: bytes | None = None
    """Sent verbatim with the status, instead of anything above."""

    @classmethod
    def rate_limited(cls, retry_after: str = "7") -> Reply:
        """429 Too Many Requests with a ``Retry-After`` header."""
        return cls(status=429, headers={"Retry-After": retry_after}, detail="Rate limit exceeded")

    @classmethod
    def error(cls, status: int, detail: str = "scripted failure") -> Reply:
        """Any status with Voyage's error body."""
        return cls(status=status, detail=detail)

    @classmethod
    def slow(cls, seconds: float) -> Reply:
        """A correct answer, late."""
        return cls(delay=seconds)


@dataclass(frozen=True)
class RecordedRequest:
    """What a client sent."""

    method: str
    path: str
    authorization: str
    body: dict[str, Any]

    @property
    def texts(self) -> list[str]:
        """``input`` as a list."""
        value = self.body.get("input", [])
        return [value] if isinstance(value, str) else list(value)

    @property
    def input_type(self) -> str | None:
        """``input_type`` as sent (None when absent or null)."""
        value = self.body.get("input_type")
        return value if isinstance(value, str) else None


def fake_vector(text: str, dimensions: int) -> np.ndarray:
    """A unit vector that depends only on ``text`` and ``dimensions``."""
    seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")
    vector = np.random.default_rng(seed).standard_normal(dimensions).astype(np.float32)
    return vector / np.linalg.norm(vector)


class FakeVoyage:
    """A threaded HTTP server on 127.0.0.1; use as a context manager."""

    def __init__(self, *, api_key: str = "test-voyage-key", port: int = 0) -> None:
        """Bind now (``port=0``: a free one); serving starts with :meth:`start`."""
        self.api_key = api_key
        self.requests: list[RecordedRequest] = []
        self._replies: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._server = _Server(("127.0.0.1", port), _Handler)
        self._server.fake = self
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,))

    @property
    def url(self) -> str:
        """The base URL to give the SDK (``.../v1``)."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def script(self, *replies: Reply) -> None:
        """Answer the next requests with ``replies``, in order; then succeed again."""
        with self._lock:
            self._replies.extend(replies)

    def start(self) -> FakeVoyage:
        """Serve in a daemon thread."""
        self._thread.daemon = True
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving; a delayed answer in progress is released at once."""
        self._closing.set()
        if self._thread.is_alive():
            self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeVoyage:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.close()

    def answer(self, request: RecordedRequest) -> tuple[int, dict[str, str], bytes]:
        """Record ``request`` and decide the response (called by the handler thread)."""
        with self._lock:
            self.requests.append(request)
            reply = self._replies.popleft() if self._replies else Reply()
        if reply.delay:
            self._closing.wait(reply.delay)
        if reply.body is not None:
            return reply.status, reply.headers, reply.body
        if reply.status != 200:
            return reply.status, reply.headers, _json({"detail": reply.detail})
        problem = _request_problem(request, self.api_key)
        if problem:
            return problem[0], {}, _json({"detail": problem[1]})
        return 200, reply.headers, _json(_success(request.body, request.texts, reply))


def _request_problem(request: RecordedRequest, api_key: str) -> tuple[int, str] | None:
    """Status and detail for a request the real API would refuse, or None."""
    if request.method != "POST" or request.path != "/v1/embeddings":
        return 404, "Not Found"
    if request.authorization != f"Bearer {api_key}":
        return 401, "Provided API key is invalid."
    texts, body = request.texts, request.body
    if not texts or len(texts) > MAX_INPUTS or not all(isinstance(t, str) for t in texts):
        return 400, f"input must be a string or a list of 1 to {MAX_INPUTS} strings"
    if not isinstance(body.get("model"), str):
        return 400, "model is required"
    if body.get("input_type") not in (None, "query", "document"):
        return 400, "input_type must be null, 'query' or 'document'"
    return None


def _success(body: dict[str, Any], texts: list[str], reply: Reply) -> dict[str, Any]:
    dimensions = reply.dimensions or body.get("output_dimension") or DEFAULT_DIMENSIONS
    vectors = [fake_vector(text, dimensions) for text in texts[: len(texts) - reply.drop]]
    if reply.nan and vectors:
        vectors[0][0] = np.nan
    as_base64 = body.get("encoding_format") == "base64"
    data = [
        {
            "object": "embedding",
            "embedding": base64.b64encode(v.astype("<f4").tobytes()).decode()
            if as_base64
            else v.tolist(),
            "index": index,
        }
        for index, v in enumerate(vectors)
    ]
    tokens = sum(len(text.split()) + 1 for text in texts)
    return {
        "object": "list",
        "data": data,
        "model": body["model"],
        "usage": {"total_tokens": tokens},
    }


def _json(value: object) -> bytes:
    return json.dumps(value).encode()


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a handler stuck in a delay must not hold up the test run's exit
    fake: FakeVoyage


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        self._serve()

    def do_GET(self) -> None:
        self._serve()

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            body = {}
        request = RecordedRequest(
            method=self.command,
            path=self.path.split("?", 1)[0],
            authorization=self.headers.get("Authorization", ""),
            body=body if isinstance(body, dict) else {},
        )
        status, headers, payload = self.server.fake.answer(request)
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test): nothing left to tell it

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
        """Quiet: tests read :attr:`FakeVoyage.requests` instead of a log."""


def main() -> None:
    """Serve until interrupted (for a local stack without a Voyage key)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument("--api-key", default="test-voyage-key")
    arguments = parser.parse_args()
    with FakeVoyage(api_key=arguments.api_key, port=arguments.port) as fake:
        sys.stdout.write(f"fake Voyage API at {fake.url} (key {fake.api_key})\n")
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()


if __name__ == "__main__":
    main()
