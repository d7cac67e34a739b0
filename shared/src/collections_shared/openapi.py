"""The error responses of a Litestar app's OpenAPI document, as the services really send them.

Litestar documents one error on its own: a 400 ``ValidationException`` as ``application/json``
``{status_code, detail, extra}``. Our services answer every error with an RFC 9457 problem
document (:class:`collections_shared.http.Problem`) as ``application/problem+json``, and request
validation is a 422. :func:`document_problems` replaces what Litestar inferred with what an
operation can actually answer, each status a ``$ref`` to one response in ``components``:

- 400 for every request body: it is not well-formed JSON or multipart (or an upstream such as
  the identity provider rejected it as malformed);
- 401 and 429 (with ``Retry-After``) for secured operations: the bearer token is verified and
  the caller's rate limit applies before anything else;
- 404 for operations with path parameters: missing and someone else's look the same;
- 413 and 422 for request bodies, 422 for any parameter;
- 415 for multipart bodies: the uploaded file is not an accepted type;
- 503 (with ``Retry-After``) everywhere: every operation needs some dependency;
- the handler's own domain errors from ``opt={"problems": [...]}`` (on the handler or any layer
  above it). A state-changing handler that declares none gets a conservative default: 409, plus
  415 with a body, plus 401 and 403 when it takes a body and no token (credential exchanges).

Responses a handler declares itself with ``responses=`` are kept as they are.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from litestar import Litestar
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.spec import (
    OpenAPI,
    OpenAPIHeader,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Parameter,
    PathItem,
    Reference,
    RequestBody,
    Schema,
)
from litestar.routes import HTTPRoute

PROBLEM_JSON = "application/problem+json"
PROBLEM_SCHEMA = "Problem"
PROBLEMS_OPT = "problems"
"""Key of a handler's ``opt``: the statuses of the domain errors the handler can answer."""

_UNSAFE = frozenset({"post", "put", "patch", "delete"})
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


@dataclass(frozen=True)
class _Status:
    name: str
    """Name of the reusable response in ``components/responses``."""
    description: str
    retry_after: bool = False


STATUSES: Mapping[int, _Status] = {
    400: _Status("BadRequest", "The request is malformed, or an upstream rejected it as such."),
    401: _Status("Unauthorized", "The bearer token or the credentials were not accepted."),
    403: _Status("Forbidden", "The account may not do this yet (e.g. it is not confirmed)."),
    404: _Status("NotFound", "No such resource, or it belongs to someone else."),
    409: _Status("Conflict", "The resource's current state does not allow this."),
    413: _Status("PayloadTooLarge", "The request body or the declared file is too large."),
    415: _Status("UnsupportedMediaType", "The file is not an accepted type."),
    422: _Status("UnprocessableContent", "A parameter or a field of the body is not valid."),
    429: _Status(
        "TooManyRequests", "The rate limit or a daily quota is used up.", retry_after=True
    ),
    503: _Status(
        "ServiceUnavailable", "A dependency is unavailable; try again shortly.", retry_after=True
    ),
}


def problem_schema() -> Schema:
    """The JSON Schema of :class:`collections_shared.http.Problem` (extension members allowed)."""
    string = Schema(type=OpenAPIType.STRING)
    field_error = Schema(
        type=OpenAPIType.OBJECT,
        required=["key", "message"],
        properties={"key": string, "message": string},
    )
    return Schema(
        type=OpenAPIType.OBJECT,
        title=PROBLEM_SCHEMA,
        description="An RFC 9457 problem document.",
        required=["title", "status"],
        properties={
            "type": Schema(
                type=OpenAPIType.STRING, description="A URI reference; about:blank by default."
            ),
            "title": string,
            "status": Schema(type=OpenAPIType.INTEGER, minimum=400, maximum=599),
            "detail": string,
            "code": Schema(
                type=OpenAPIType.STRING, description="Machine-readable reason, e.g. not_found."
            ),
            "request_id": Schema(
                type=OpenAPIType.STRING, description="Quote it when you report a problem."
            ),
            "errors": Schema(
                type=OpenAPIType.ARRAY,
                items=field_error,
                description="Which parameters or fields were not valid, and why.",
            ),
        },
    )


def _problem_response(status: int) -> OpenAPIResponse:
    spec = STATUSES[status]
    # The body's status is pinned too: a problem that contradicts its own response is a bug.
    schema = Schema(
        all_of=[
            Reference(ref=f"#/components/schemas/{PROBLEM_SCHEMA}"),
            Schema(
                type=OpenAPIType.OBJECT,
                properties={"status": Schema(type=OpenAPIType.INTEGER, const=status)},
            ),
        ]
    )
    headers: dict[str, OpenAPIHeader | Reference] | None = None
    if spec.retry_after:
        headers = {
            "Retry-After": OpenAPIHeader(
                schema=Schema(type=OpenAPIType.INTEGER, minimum=0),
                required=True,
                description="Seconds to wait before trying again.",
            )
        }
    return OpenAPIResponse(
        description=spec.description,
        headers=headers,
        content={PROBLEM_JSON: OpenAPIMediaType(schema=schema)},
    )


def problem_statuses(
    method: str, operation: Operation, declared: Collection[int] | None
) -> set[int]:
    """The error statuses one operation can answer (see the module docstring for the rules)."""
    parameters = [p for p in operation.parameters or () if isinstance(p, Parameter)]
    body = operation.request_body
    media_types = set(body.content) if isinstance(body, RequestBody) else set()
    secured = bool(operation.security)
    statuses = {503}
    if secured:
        statuses |= {401, 429}
    if any(p.param_in == "path" for p in parameters):
        statuses.add(404)
    if parameters or body is not None:
        statuses.add(422)
    if body is not None:
        statuses |= {400, 413}
    if "multipart/form-data" in media_types:
        statuses.add(415)
    if declared is not None:
        statuses |= set(declared)
    elif method in _UNSAFE:
        statuses.add(409)
        if body is not None:
            statuses.add(415)
            if not secured:
                statuses |= {401, 403}
    return statuses


def _handlers(app: Litestar) -> Iterator[tuple[str, str, HTTPRouteHandler]]:
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            for method in handler.http_methods:
                yield route.path_format or "/", method.lower(), handler


def _declared(handler: HTTPRouteHandler) -> Collection[int] | None:
    declared: Collection[int] | None = handler.opt.get(PROBLEMS_OPT)
    unknown = set(declared or ()) - set(STATUSES)
    if unknown:
        msg = f"{handler.handler_name}: no problem response is defined for {sorted(unknown)}"
        raise ValueError(msg)
    return declared


def document_problems(app: Litestar) -> None:
    """Rewrite the error responses of every operation in ``app``'s OpenAPI document in place.

    Idempotent; does nothing when the app serves no OpenAPI document.
    """
    if app.openapi_config is None:
        return
    openapi: OpenAPI = app.openapi_schema
    components = openapi.components
    components.schemas[PROBLEM_SCHEMA] = problem_schema()
    responses: dict[str, Any] = dict(components.responses or {})
    responses.update({spec.name: _problem_response(code) for code, spec in STATUSES.items()})
    components.responses = responses
    paths: Mapping[str, PathItem] = openapi.paths or {}
    for path, method, handler in _handlers(app):
        item = paths.get(path)
        operation = getattr(item, method, None) if item else None
        if not isinstance(operation, Operation) or operation.responses is None:
            continue
        own = {str(status) for status in handler.responses or {}}
        kept = {
            code: response
            for code, response in operation.responses.items()
            if code in own or not code.isdigit() or int(code) < 400
        }
        for status in sorted(problem_statuses(method, operation, _declared(handler))):
            kept.setdefault(
                str(status), Reference(ref=f"#/components/responses/{STATUSES[status].name}")
            )
        operation.responses = kept
