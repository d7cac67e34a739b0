"""structlog set-up shared by every service: JSON lines in production, pretty on a terminal.

Each unit of work (an HTTP request, an SQS message) starts with :func:`bind_unit_of_work`, which
clears the context and binds its ids, so every line it logs carries request_id / correlation_id /
user_id, and ends with one canonical line naming what happened.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import msgspec
import structlog

_json_encoder = msgspec.json.Encoder()


def _serialize(event: Any, **_: Any) -> bytes:
    return _json_encoder.encode(event)


def configure_logging(service: str, level: str = "info", fmt: str = "auto") -> None:
    """Configure structlog once per process.

    Args:
        service: bound to every line as ``service``.
        level: minimum level name (``debug``, ``info``, ...).
        fmt: ``json``, ``console``, or ``auto`` (console when stderr is a terminal).
    """
    use_console = fmt == "console" or (fmt == "auto" and sys.stderr.isatty())
    shared: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: structlog.typing.Processor
    if use_console:
        # Plain tracebacks: rich ones print local variables, which may hold tokens.
        renderer = structlog.dev.ConsoleRenderer(exception_formatter=structlog.dev.plain_traceback)
        factory: Any = structlog.PrintLoggerFactory(file=sys.stderr)
    else:
        # Structured tracebacks without local variables (they may hold tokens and headers).
        shared.append(
            structlog.processors.ExceptionRenderer(
                structlog.tracebacks.ExceptionDictTransformer(show_locals=False)
            )
        )
        renderer = structlog.processors.JSONRenderer(serializer=_serialize)
        factory = structlog.BytesLoggerFactory(file=sys.stderr.buffer)
    _route_stdlib_logging(shared, renderer, level)
    structlog.configure(
        processors=[*shared, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
        ),
        logger_factory=factory,
        cache_logger_on_first_use=True,
    )
    structlog.contextvars.clear_contextvars()
    _service_context.clear()
    _service_context["service"] = service
    structlog.contextvars.bind_contextvars(service=service)


_service_context: dict[str, str] = {}


def _route_stdlib_logging(
    shared: list[structlog.typing.Processor], renderer: structlog.typing.Processor, level: str
) -> None:
    """Render the standard library's records (uvicorn, asyncio, botocore) like our own."""
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            _bytes_to_text(renderer),
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.getLevelNamesMapping().get(level.upper(), logging.INFO))
    for noisy in ("botocore", "aiobotocore", "urllib3", "httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _bytes_to_text(renderer: structlog.typing.Processor) -> structlog.typing.Processor:
    def render(logger: Any, name: str, event: Any) -> str:
        rendered = renderer(logger, name, event)
        return rendered.decode() if isinstance(rendered, bytes) else str(rendered)

    return render


def bind_unit_of_work(**ids: str | None) -> None:
    """Start a unit of work: forget the previous one's context and bind the given ids."""
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(
        **_service_context, **{key: value for key, value in ids.items() if value is not None}
    )


def get_logger(name: str | None = None) -> structlog.stdlib.BoundLogger:
    """A structlog logger; the name, if given, is bound as ``component``.

    Stays lazy: module-level loggers are created at import, before :func:`configure_logging`.
    """
    logger: structlog.stdlib.BoundLogger = (
        structlog.get_logger(component=name) if name else structlog.get_logger()
    )
    return logger
