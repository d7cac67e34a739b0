"""A local fake of Tavily's search API (``POST /search``), for tests.

The official ``tavily-python`` SDK is pointed at it (``api_base_url``). It speaks the documented
wire format: a JSON body (``query``, ``max_results``, ``include_domains``, ``exclude_domains``,
``search_depth``...) with ``Authorization: Bearer <key>``, answered with ``{query, answer,
images, results: [{title, url, content, score, raw_content}], response_time}``. Errors are
Tavily's: 401 for a wrong key, 429 over the rate limit, 432 over the plan's credits, 5xx, each
with ``{"detail": {"error": message}}``.

Tests add pages to its index (:meth:`FakeTavily.add`); a search ranks them by shared words and
honours the domain lists and ``max_results`` as the API does. :meth:`FakeTavily.script` queues
replies that answer the next requests instead (an error, a slow answer, or results that ignore
the domain lists, as a misbehaving upstream would). Every request is recorded.

    with FakeTavily() as fake:
        fake.add("https://en.wikipedia.org/wiki/Lighthouse", "Lighthouse", "A tower ...")
        client = tavily.AsyncTavilyClient(api_key=fake.api_key, api_base_url=fake.url)
"""

from __future__ import annotations

import json
import re
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

API_KEY = "tvly-test-key"


@dataclass(frozen=True)
class Page:
    url: str
    title: str
    content: str


@dataclass(frozen=True)
class Reply:
    """A scripted answer: a status and a JSON body, sent after ``delay`` seconds."""

    status: int = 200
    body: dict[str, Any] = field(default_factory=dict)
    delay: float = 0.0


@dataclass(frozen=True)
class RecordedRequest:
    path: str
    headers: dict[str, str]
    """Lower-cased header names."""
    body: Any


def results_reply(pages: list[Page], query: str = "") -> Reply:
    """A 200 listing ``pages`` as they are, whatever the request asked for."""
    return Reply(body=_answer(query, pages))


def error_reply(status: int, message: str = "") -> Reply:
    """An error in Tavily's shape: 401 bad key, 429 rate limit, 432 plan limit, 5xx."""
    return Reply(status=status, body={"detail": {"error": message or f"error {status}"}})


def slow(reply: Reply, seconds: float) -> Reply:
    return Reply(status=reply.status, body=reply.body, delay=seconds)


def _answer(query: str, pages: list[Page]) -> dict[str, Any]:
    return {
        "query": query,
        "follow_up_questions": None,
        "answer": None,
        "images": [],
        "results": [
            {
                "title": page.title,
                "url": page.url,
                "content": page.content,
                "score": round(1.0 - rank / 20, 3),
                "raw_content": None,
            }
            for rank, page in enumerate(pages)
        ],
        "response_time": 0.01,
    }


def _within(url: str, domains: list[str]) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return any(host == d.lower() or host.endswith(f".{d.lower()}") for d in domains)


class FakeTavily:
    """The fake server; a context manager, or :meth:`start` and :meth:`close`."""

    def __init__(self, api_key: str = API_KEY) -> None:
        self.api_key = api_key
        self.pages: list[Page] = []
        self.requests: list[RecordedRequest] = []
        self._replies: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def add(self, url: str, title: str, content: str) -> Page:
        """Put a page in the index searches rank."""
        page = Page(url, title, content)
        with self._lock:
            self.pages.append(page)
        return page

    def script(self, *replies: Reply) -> None:
        """Answer the next requests with these, in order, before searching the index again."""
        with self._lock:
            self._replies.extend(replies)

    def answer(self, request: RecordedRequest) -> Reply:
        """What the API would answer to ``request``."""
        with self._lock:
            self.requests.append(request)
            scripted = self._replies.popleft() if self._replies else None
            pages = list(self.pages)
        if request.headers.get("authorization") != f"Bearer {self.api_key}":
            return error_reply(401, "Unauthorized: missing or invalid API key.")
        if scripted is not None:
            return scripted
        body = request.body if isinstance(request.body, dict) else {}
        query = body.get("query")
        if not isinstance(query, str) or not query.strip():
            return error_reply(400, "Query is invalid.")
        if len(query) > 400:
            return error_reply(400, "Query is too long. Max query length is 400 characters.")
        return Reply(body=_answer(query, self._search(query, body, pages)))

    def _search(self, query: str, body: dict[str, Any], pages: list[Page]) -> list[Page]:
        terms = set(re.findall(r"\w+", query.lower()))
        include = body.get("include_domains") or []
        exclude = body.get("exclude_domains") or []
        scored = []
        for page in pages:
            if (include and not _within(page.url, include)) or _within(page.url, exclude):
                continue
            words = set(re.findall(r"\w+", f"{page.title} {page.content}".lower()))
            if overlap := len(terms & words):
                scored.append((overlap, page))
        scored.sort(key=lambda pair: -pair[0])
        limit = body.get("max_results") if isinstance(body.get("max_results"), int) else 5
        return [page for _, page in scored][:limit]

    def wait(self, seconds: float) -> None:
        self._closing.wait(seconds)

    def start(self) -> FakeTavily:
        self._thread.start()
        return self

    def close(self) -> None:
        self._closing.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeTavily:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.close()


def _handler_for(fake: FakeTavily) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("content-length") or 0))
            try:
                body = json.loads(raw)
            except ValueError:
                body = None
            headers = {name.lower(): value for name, value in self.headers.items()}
            if self.path.split("?")[0] != "/search":
                self._send(error_reply(404, f"no route {self.path}"))
                return
            self._send(fake.answer(RecordedRequest(self.path, headers, body)))

        def _send(self, reply: Reply) -> None:
            if reply.delay:
                fake.wait(reply.delay)
            payload = json.dumps(reply.body).encode()
            try:
                self.send_response(reply.status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
            """Keep test output quiet."""

    return Handler
