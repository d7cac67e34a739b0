"""What every Litestar service has in common: request ids, problem+json errors, ``/health``,
``/metrics`` (Prometheus) and, when an OTLP endpoint is configured, traces.

Errors are RFC 9457 problem documents. Client errors say what was wrong; a dependency that is down
(PostgreSQL, S3 and the other AWS endpoints) is a 503 with ``Retry-After``; anything unexpected is
a 500 with a generic message and the request id, while the details go to the log only.
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from functools import partial
from typing import Any

import asyncpg
import msgspec
from botocore.exceptions import ClientError as AwsClientError
from botocore.exceptions import ConnectionError as AwsConnectionError
from botocore.exceptions import HTTPClientError
from litestar import Litestar, Request, Response, get
from litestar.config.cors import CORSConfig
from litestar.datastructures import MutableScopeHeaders, State
from litestar.enums import ScopeType
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi import OpenAPIConfig, ResponseSpec
from litestar.openapi.plugins import ScalarRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from collections_shared import metrics, tracing
from collections_shared.errors import ProblemError, ServiceUnavailableError, TooManyRequestsError
from collections_shared.health import Degradations, HealthCheck, HealthReport, check_health
from collections_shared.logging import bind_unit_of_work, get_logger
from collections_shared.openapi import PROBLEM_JSON, document_problems

log = get_logger("http")

REQUEST_ID_HEADER = "x-request-id"
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._\-]{8,64}$")
# A shared album's token is a credential in its path: logs keep the route, not the token.
_CREDENTIAL_IN_PATH = re.compile(r"^/shared/[^/]+")

SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-site",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
}


class Problem(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """An RFC 9457 problem document."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str = ""
    code: str = ""
    request_id: str = ""
    errors: list[dict[str, Any]] | None = None


def _problem(
    request: Request[Any, Any, State], problem: Problem, headers: dict[str, str] | None = None
) -> Response[Problem]:
    # Requests that matched no route never passed the middleware: give them an id here.
    request_id = request.scope.get("state", {}).get("request_id") or uuid.uuid4().hex
    return Response(
        msgspec.structs.replace(problem, request_id=request_id),
        status_code=problem.status,
        media_type=PROBLEM_JSON,
        headers={**SECURITY_HEADERS, REQUEST_ID_HEADER: request_id, **(headers or {})},
    )


def _problem_error_handler(
    request: Request[Any, Any, State], error: Exception
) -> Response[Problem]:
    assert isinstance(error, ProblemError)
    headers = None
    if isinstance(error, TooManyRequestsError | ServiceUnavailableError):
        headers = {"retry-after": str(error.retry_after)}
    problem = Problem(
        title=error.title, status=error.status_code, detail=error.detail, code=error.code
    )
    return _problem(request, problem, headers)


def _http_exception_handler(
    request: Request[Any, Any, State], error: Exception
) -> Response[Problem]:
    assert isinstance(error, HTTPException)
    status = error.status_code
    if status >= 500:
        return _internal_error_handler(request, error)
    errors = None
    if isinstance(error, ValidationException):
        # Well-formed but invalid input (a value out of range, a missing or unknown field) is
        # 422, like the services' own ValidationFailedError; 400 stays for malformed syntax.
        status = 422
        if isinstance(error.extra, list):
            errors = [
                {"key": str(entry.get("key", "")), "message": str(entry.get("message", ""))[:300]}
                for entry in error.extra
                if isinstance(entry, dict)
            ]
    elif status == 400 and error.detail == _MULTIPART_LIMIT_DETAIL:
        status = 413  # Litestar's multipart part limit says 400 until its 3.0 (see its FIXME)
    problem = Problem(
        title=_title(status),
        status=status,
        detail=str(error.detail)[:500],
        code=_LITESTAR_CODES.get(status, ""),
        errors=errors,
    )
    return _problem(request, problem, dict(error.headers or {}))


_MULTIPART_LIMIT_DETAIL = "Request Entity Too Large"
_LITESTAR_CODES = {
    400: "malformed_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    422: "validation_failed",
}


# A dependency that is down or restarting (PostgreSQL refusing or dropping connections, S3 or
# another AWS endpoint unreachable or answering 5xx): the same request may well work shortly.
_UNAVAILABLE: tuple[type[BaseException], ...] = (
    ConnectionError,  # refused, reset, broken pipe
    TimeoutError,  # also a pool that cannot hand out a connection in time
    asyncpg.PostgresConnectionError,
    asyncpg.OperatorInterventionError,  # admin or crash shutdown, server still starting up
    AwsConnectionError,
    HTTPClientError,
)
_UNAVAILABLE_RETRY_AFTER = 5


def _dependency_unavailable(error: BaseException) -> bool:
    if isinstance(error, AwsClientError):
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return int(status) >= 500
    # A bare OSError is what asyncpg raises when every address of the host refused.
    return isinstance(error, _UNAVAILABLE) or type(error) is OSError


def _internal_error_handler(
    request: Request[Any, Any, State], error: Exception
) -> Response[Problem]:
    if _dependency_unavailable(error):
        log.warning("request_dependency_unavailable", error_type=type(error).__name__)
        problem = Problem(
            title="Service Unavailable",
            status=503,
            detail="A service we depend on is unavailable. Try again shortly.",
            code="dependency_unavailable",
        )
        return _problem(request, problem, {"retry-after": str(_UNAVAILABLE_RETRY_AFTER)})
    log.error("request_crashed", error_type=type(error).__name__, exc_info=error)
    problem = Problem(
        title="Internal Server Error",
        status=500,
        detail="Something went wrong on our side. Quote the request id when you report it.",
        code="internal_error",
    )
    return _problem(request, problem)


def _title(status: int) -> str:
    from http import HTTPStatus  # noqa: PLC0415 - only needed on the error path

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


EXCEPTION_HANDLERS: Mapping[Any, Any] = {
    ProblemError: _problem_error_handler,
    HTTPException: _http_exception_handler,
    Exception: _internal_error_handler,
}


_QUIET_PATHS = frozenset({"/health", "/metrics"})
"""Polled by load balancers and scrapers: counted in /metrics, never logged."""


class _RequestMetrics:
    """The metric children of each (method, route, status), looked up once each."""

    def __init__(self, service: str) -> None:
        self._service = service
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route, status)
        children = self._children.get(key)
        if children is None:
            children = self._children[key] = (
                metrics.HTTP_REQUESTS.labels(self._service, method, route, str(status)),
                metrics.HTTP_DURATION.labels(self._service, method, route),
            )
        children[0].inc()
        children[1].observe(seconds)


def request_context_middleware(
    app: ASGIApp, service: str = "", trust_trace_context: bool = True
) -> ASGIApp:
    """Give every request an id, echo it back, add security headers, log one line at the end,
    count it in ``/metrics`` by route template and, when tracing, record it as a server span
    (continuing the caller's ``traceparent`` only if ``trust_trace_context``)."""
    recorded = _RequestMetrics(service)

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        incoming = _header(scope, REQUEST_ID_HEADER)
        request_id = (
            incoming if incoming and _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        )
        scope.setdefault("state", {})["request_id"] = request_id
        bind_unit_of_work(request_id=request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableScopeHeaders.from_message(message)
                headers[REQUEST_ID_HEADER] = request_id
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
            await send(message)

        route = scope.get("path_template") or "unmatched"
        method = scope.get("method", "")
        try:
            if tracing.enabled():
                carrier = _trace_carrier(scope) if trust_trace_context else None
                with tracing.server_span(method, route, carrier) as span:
                    try:
                        await app(scope, receive, send_with_headers)
                    finally:
                        tracing.finish_server_span(span, status)
            else:
                await app(scope, receive, send_with_headers)
        finally:
            seconds = time.perf_counter() - started
            recorded.observe(method, route, status, seconds)
            if scope["path"] not in _QUIET_PATHS:
                log.info(
                    "http_request",
                    method=method,
                    path=_CREDENTIAL_IN_PATH.sub("/shared/<token>", scope["path"]),
                    status=status,
                    duration_ms=round(seconds * 1000, 2),
                )

    return middleware


def _trace_carrier(scope: Scope) -> dict[str, str]:
    return {
        name: value
        for name in ("traceparent", "tracestate")
        if (value := _header(scope, name)) is not None
    }


def _header(scope: Scope, name: str) -> str | None:
    raw = name.encode()
    for key, value in scope["headers"]:
        if key == raw:
            return value.decode("latin-1")
    return None


def _unstorable_text_handler(
    request: Request[Any, Any, State], error: Exception
) -> Response[Problem]:
    # PostgreSQL text cannot hold U+0000: only a caller's input brings one into a statement.
    problem = Problem(
        title="Unprocessable Content",
        status=422,
        detail="text may not contain NUL characters",
        code="nul_character",
    )
    return _problem(request, problem)


# The database's refusal of characters it cannot store (SQLSTATE 22021, 22P05) is the caller's.
_UNSTORABLE_TEXT_HANDLERS: Mapping[Any, Any] = {
    asyncpg.CharacterNotInRepertoireError: _unstorable_text_handler,
    asyncpg.UntranslatableCharacterError: _unstorable_text_handler,
}


def health_route(service: str) -> Any:
    """``GET /health``: 200 with each dependency's state, 503 naming the failed ones."""

    @get(
        "/health",
        tags=["health"],
        summary="Service and dependency health",
        exclude_from_auth=True,
        responses={
            503: ResponseSpec(data_container=HealthReport, description="A dependency is down.")
        },
    )
    async def health(state: State) -> Response[HealthReport]:
        checks: Mapping[str, HealthCheck] = state.get("health_checks", {})
        degradations: Degradations | None = state.get("degradations")
        report = await check_health(
            service, checks, degradations.snapshot() if degradations else None
        )
        return Response(report, status_code=200 if report.healthy else 503)

    return health


MetricsRefresher = Callable[[], Awaitable[None]]
_REFRESH_TIMEOUT_SECONDS = 3.0


async def _refresh(refreshers: Sequence[MetricsRefresher]) -> None:
    for refresh in refreshers:
        try:
            await asyncio.wait_for(refresh(), timeout=_REFRESH_TIMEOUT_SECONDS)
        except Exception as error:  # noqa: BLE001 - a stale gauge beats a failed scrape
            log.warning("metrics_refresh_failed", error=f"{type(error).__name__}: {error}")


def metrics_route() -> Any:
    """``GET /metrics``: this process's Prometheus metrics (text exposition format).

    Gauges that need a query first (``app.state.metrics_refreshers``) are refreshed on each
    scrape; one that fails keeps its last value and is logged.
    """

    @get(
        "/metrics",
        tags=["health"],
        summary="Prometheus metrics",
        exclude_from_auth=True,
        include_in_schema=False,
        media_type=metrics.CONTENT_TYPE,
    )
    async def prometheus_metrics(state: State) -> Response[bytes]:
        await _refresh(state.get("metrics_refreshers", ()))
        return Response(metrics.generate_latest(), media_type=metrics.CONTENT_TYPE)

    return prometheus_metrics


def create_service_app(
    *,
    service: str,
    route_handlers: Sequence[Any],
    lifespan: Sequence[Any] = (),
    middleware: Sequence[Any] = (),
    openapi: bool = True,
    cors_origins: Sequence[str] = (),
    version: str = "0.1.0",
    public: bool = False,
    **kwargs: Any,
) -> Litestar:
    """A Litestar app with the shared conventions wired in.

    Its OpenAPI document names the bearer scheme and, once the app has started, documents every
    operation's error responses as problem documents (:func:`document_problems`). Traces are
    recorded and exported when an OTLP endpoint is configured (:mod:`collections_shared.tracing`);
    a ``public`` service starts a new trace for every request instead of continuing the caller's.
    """
    tracing.configure(service)
    bearer = SecurityScheme(
        type="http",
        scheme="bearer",
        bearer_format="JWT",
        description="A Cognito access token from POST /auth/login.",
    )
    return Litestar(
        route_handlers=[health_route(service), metrics_route(), *route_handlers],
        on_startup=[*kwargs.pop("on_startup", ()), document_problems],
        lifespan=list(lifespan),
        middleware=[
            partial(request_context_middleware, service=service, trust_trace_context=not public),
            *middleware,
        ],
        exception_handlers={**EXCEPTION_HANDLERS, **_UNSTORABLE_TEXT_HANDLERS},
        openapi_config=OpenAPIConfig(
            title=f"Collections {service}",
            version=version,
            path="/schema",
            render_plugins=[ScalarRenderPlugin()],
            components=Components(security_schemes={"BearerToken": bearer}),
        )
        if openapi
        else None,
        logging_config=None,  # logging is structlog's, configured once per process
        cors_config=CORSConfig(allow_origins=list(cors_origins), allow_credentials=False)
        if cors_origins
        else None,
        **kwargs,
    )
