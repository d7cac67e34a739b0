"""Gateway hygiene and limits: rate limits, quotas, CORS, headers, schema switch, forged tokens."""

from __future__ import annotations

import base64
import json
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from structlog.contextvars import merge_contextvars
from structlog.testing import capture_logs

from collections_devtools.testing.api import ApiUser, sign_up, upload
from collections_devtools.testing.client import TestClient
from collections_devtools.testing.images import jpeg


async def _user(client: TestClient) -> ApiUser:
    return await sign_up(client, f"sec-{uuid.uuid4().hex[:8]}@example.com")


async def test_rate_limit_is_per_user_with_retry_after(gateway: Callable[..., Any]) -> None:
    """The sixth request in a minute is 429 with Retry-After; another user is unaffected."""
    async with gateway(rate_limit_per_minute=5) as client:
        alice, bob = await _user(client), await _user(client)
        codes = [(await client.get("/items", headers=alice.headers)).status_code for _ in range(6)]
        limited = await client.get("/items", headers=alice.headers)
        other = await client.get("/items", headers=bob.headers)
    assert [200] * 5 + [429] == codes
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    assert "rate_limited" == limited.json()["code"]
    assert 200 == other.status_code


async def test_daily_upload_quota_is_a_429_with_a_reason(gateway: Callable[..., Any]) -> None:
    """Past the daily upload quota an upload is refused and says which quota."""
    async with gateway(daily_upload_quota=2) as client:
        alice = await _user(client)
        codes = [(await upload(client, alice, jpeg(seed=500 + n))).status_code for n in range(3)]
        refused = await upload(client, alice, jpeg(seed=510))
    assert [202, 202, 429] == codes
    assert "uploads_quota_exceeded" == refused.json()["code"]
    assert int(refused.headers["retry-after"]) > 0


async def test_cors_allows_only_listed_origins(gateway: Callable[..., Any]) -> None:
    """A listed origin is allowed; any other origin is never reflected back."""
    async with gateway(cors_origins="https://app.example") as client:
        good = await client.options(
            "/items",
            headers={"Origin": "https://app.example", "Access-Control-Request-Method": "GET"},
        )
        evil = await client.get("/health", headers={"Origin": "https://evil.example"})
    assert "https://app.example" == good.headers.get("access-control-allow-origin")
    assert "https://evil.example" != evil.headers.get("access-control-allow-origin")
    assert "*" != evil.headers.get("access-control-allow-origin")


async def test_responses_carry_security_headers_and_request_ids(client: TestClient) -> None:
    """Every response, errors included, has nosniff, frame denial and a request id."""
    ok = await client.get("/health", headers={"X-Request-ID": "abcdef12-client-id"})
    missing = await client.get("/no/such/route")
    for response in (ok, missing):
        assert "nosniff" == response.headers["x-content-type-options"]
        assert "DENY" == response.headers["x-frame-options"]
        assert response.headers["x-request-id"]
    assert "abcdef12-client-id" == ok.headers["x-request-id"]
    assert missing.headers["x-request-id"] == missing.json()["request_id"]


async def test_bogus_request_id_is_replaced(client: TestClient) -> None:
    """A request id with odd characters is not echoed into headers or logs."""
    with capture_logs(processors=[merge_contextvars]) as logs:
        response = await client.get("/items", headers={"X-Request-ID": "bad id <script>"})
    (line,) = [entry for entry in logs if entry["event"] == "http_request"]
    assert "<script>" not in response.headers["x-request-id"]
    assert response.headers["x-request-id"] == line["request_id"]


async def test_schema_can_be_turned_off(gateway: Callable[..., Any]) -> None:
    """With openapi_enabled false, /schema is not served."""
    async with gateway(openapi_enabled=False) as client:
        assert 404 == (await client.get("/schema/openapi.json")).status_code


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


async def test_forged_tokens_are_401_without_detail(client: TestClient, alice: ApiUser) -> None:
    """A re-signed, unsigned or tampered token is a plain 401 that explains nothing."""
    header, payload, signature = alice.token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    forged = [
        f"{header}.{_b64({**claims, 'sub': 'someone-else'})}.{signature}",
        f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{payload}.",
        f"{_b64({'alg': 'HS256', 'kid': 'dummy'})}.{payload}.{signature}",
        "not-a-token",
    ]
    for token in forged:
        response = await client.get("/items", headers={"Authorization": f"Bearer {token}"})
        assert 401 == response.status_code
        assert "missing or invalid access token" == response.json()["detail"]
        assert "Traceback" not in response.text


async def test_text_the_database_cannot_store_is_a_clean_422(
    client: TestClient, alice: ApiUser
) -> None:
    """A request the database cannot take is still a clean client error, never a stack trace.

    A NUL passes every check of the request (a valid, short category) and reaches PostgreSQL,
    whose refusal (SQLSTATE 22021) only the database's error handler turns into this 422.
    """
    response = await client.get("/items", params={"category": "cats\x00"}, headers=alice.headers)
    assert 422 == response.status_code
    assert "nul_character" == response.json()["code"]
    assert "asyncpg" not in response.text and "Traceback" not in response.text


async def test_web_ui_is_served_with_a_strict_content_security_policy(client: TestClient) -> None:
    """The page and its scripts load from the gateway; the page forbids inline and foreign code."""
    page = await client.get("/")
    script = await client.get("/static/app.js")
    assert 200 == page.status_code
    assert "/static/app.js" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert 200 == script.status_code
    assert "innerHTML" not in script.text


@contextmanager
def refusing_upstream(status: int, problem: dict[str, Any]) -> Iterator[str]:
    """A real HTTP server on a port of its own that answers every POST with ``problem``."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length") or 0))
            body = json.dumps(problem).encode()
            self.send_response(status)
            self.send_header("content-type", "application/problem+json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
            """Keep test output quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


async def test_chat_stream_errors_are_relayed_as_errors(gateway: Callable[..., Any]) -> None:
    """A streamed chat the chat service refuses is answered with its error, not a 200 stream."""
    problem = {"title": "Not Found", "status": 404, "code": "not_found", "detail": "no session"}
    with refusing_upstream(404, problem) as chat_url:
        async with gateway(chat_url=chat_url) as client:
            alice = await _user(client)
            response = await client.post(
                "/chat/stream", json={"message": "hello"}, headers=alice.headers
            )
    assert 404 == response.status_code
    assert "application/problem+json" == response.headers["content-type"]
    assert "no session" == response.json()["detail"]


async def test_an_unreachable_chat_service_is_a_503(client: TestClient, alice: ApiUser) -> None:
    """With nothing listening upstream the stream is a 503 problem, and no LLM quota is spent."""
    response = await client.post("/chat/stream", json={"message": "hello"}, headers=alice.headers)
    assert 503 == response.status_code
    assert "application/problem+json" == response.headers["content-type"]
