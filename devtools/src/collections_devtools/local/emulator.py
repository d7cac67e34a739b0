"""moto's server with its state kept on disk, so the local stack survives a restart.

moto keeps everything in memory. This process runs moto's threaded server and pickles moto's
backends to one file: every couple of seconds while requests change things, and on SIGTERM/SIGINT.
On start the file is loaded back into moto's backend registries before the first request, so
user pools (with each user's ``sub``), buckets and objects, queues with their messages, rules and
tables are all as they were. A SIGKILL loses at most the last autosave interval, which the
services tolerate like any redelivery.

Pickles are tied to the moto version: the lock file pins it, and a snapshot that no longer loads
is moved aside (the stack then provisions fresh resources) rather than stopping the stack.

Run: ``python -m collections_devtools.local.emulator --port 4566 --state .local/state/aws.pickle``
"""

from __future__ import annotations

import argparse
import importlib
import io
import logging
import pickle
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes, PublicKeyTypes
from moto.core.base_backend import BackendDict, backend_lock
from moto.moto_api._internal import mock_random
from moto.moto_server import werkzeug_app
from moto.moto_server.threaded_moto_server import ThreadedMotoServer

_LOCK_FACTORIES: dict[type, Callable[[], Any]] = {
    type(threading.Lock()): threading.Lock,
    type(threading.RLock()): threading.RLock,
}
_PRIVATE_KEY_TYPES = PrivateKeyTypes.__args__  # type: ignore[attr-defined]
_PUBLIC_KEY_TYPES = PublicKeyTypes.__args__  # type: ignore[attr-defined]


def _global_name(backends: BackendDict[Any]) -> tuple[str, str]:
    """The (module, attribute) of the module-level global that holds ``backends``."""
    module = sys.modules[backends.backend.__module__]
    package = module.__name__.rsplit(".", 1)[0]
    candidates = [
        module,
        *(m for name, m in list(sys.modules.items()) if m is not None and name.startswith(package)),
    ]
    for candidate in candidates:
        for name, value in vars(candidate).items():
            if value is backends:
                return candidate.__name__, name
    msg = f"no module global holds the {backends.service_name} backends"
    raise LookupError(msg)


def _load_private_key(pem: bytes) -> Any:
    return serialization.load_pem_private_key(pem, password=None)


def _load_public_key(pem: bytes) -> Any:
    return serialization.load_pem_public_key(pem)


class _Pickler(pickle.Pickler):
    def persistent_id(self, obj: Any) -> Any:
        # Models sometimes point back at a registry: keep that a reference, never a copy.
        if isinstance(obj, BackendDict):
            return ("BackendDict", *_global_name(obj))
        return None

    def reducer_override(self, obj: Any) -> Any:
        factory = _LOCK_FACTORIES.get(type(obj))
        if factory is not None:
            return factory, ()
        # cryptography keys (Cognito's signing key) do not pickle; PEM does.
        if isinstance(obj, _PRIVATE_KEY_TYPES):
            pem = obj.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            return _load_private_key, (pem,)
        if isinstance(obj, _PUBLIC_KEY_TYPES):
            pem = obj.public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            return _load_public_key, (pem,)
        return NotImplemented


class _Unpickler(pickle.Unpickler):
    def persistent_load(self, pid: Any) -> Any:
        _, module, name = pid
        return getattr(importlib.import_module(module), name)


def snapshot() -> bytes:
    """Serialize every moto backend that has been used."""
    with backend_lock:
        state: dict[str, Any] = {"backends": {}, "random": mock_random.getstate()}
        registry: list[BackendDict[Any]] = list(BackendDict._instances)  # type: ignore[misc]
        for backends in registry:
            accounts = {account: dict(regions) for account, regions in backends.items()}
            state["backends"][_global_name(backends)] = accounts
        buffer = io.BytesIO()
        _Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(state)
        return buffer.getvalue()


def restore(data: bytes) -> None:
    """Put a snapshot's backends back into moto's registries (before the first request)."""
    state = _Unpickler(io.BytesIO(data)).load()
    with backend_lock:
        for (module, name), accounts in state["backends"].items():
            backends = getattr(importlib.import_module(module), name)
            for account, regions in accounts.items():
                per_account = backends[account]
                for region, backend in regions.items():
                    dict.__setitem__(per_account, region, backend)
        mock_random.setstate(state["random"])


class _RequestGate:
    """Requests share the gate; a snapshot takes it alone, so it never sees a half-done change.

    SQS long polls are let through without the gate: they can wait 20 s and would stall snapshots.
    """

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._active = 0
        self._snapshotting = False
        self._closed = False
        self.changes = 0

    def enter(self) -> None:
        with self._condition:
            self._condition.wait_for(lambda: not self._snapshotting and not self._closed)
            self._active += 1

    def close(self) -> None:
        """Hold every new request for good (shutting down: the final snapshot must be the last
        word; a request answered after it would be lost on restart). Held requests never get an
        answer; their clients see the connection drop and retry against the restarted emulator."""
        with self._condition:
            self._closed = True

    def leave(self, *, changed: bool) -> None:
        with self._condition:
            self._active -= 1
            if changed:
                self.changes += 1
            self._condition.notify_all()

    def exclusive(self) -> _Exclusive:
        return _Exclusive(self)


class _Exclusive:
    def __init__(self, gate: _RequestGate) -> None:
        self._gate = gate

    def __enter__(self) -> None:
        condition = self._gate._condition
        with condition:
            self._gate._snapshotting = True
            condition.wait_for(lambda: self._gate._active == 0, timeout=10)

    def __exit__(self, *_: object) -> None:
        condition = self._gate._condition
        with condition:
            self._gate._snapshotting = False
            condition.notify_all()


def _is_long_poll(environ: dict[str, Any]) -> bool:
    return bool(environ.get("HTTP_X_AMZ_TARGET", "") == "AmazonSQS.ReceiveMessage")


def _is_read_only(environ: dict[str, Any]) -> bool:
    return environ.get("REQUEST_METHOD") in {"GET", "HEAD"} and not environ.get("HTTP_X_AMZ_TARGET")


class PersistentEmulator:
    """moto's server plus snapshot-on-change persistence."""

    def __init__(self, *, host: str, port: int, state_file: Path, autosave_seconds: float) -> None:
        self.state_file = state_file
        self.autosave_seconds = autosave_seconds
        self._gate = _RequestGate()
        self._saved_changes = -1
        self._save_lock = threading.Lock()
        self._server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)

    def load(self) -> str:
        """Restore the state file if there is one; returns what happened, for the log."""
        if not self.state_file.exists():
            return "fresh"
        started = time.perf_counter()
        try:
            restore(self.state_file.read_bytes())
        except Exception as error:  # noqa: BLE001 - any unreadable snapshot is set aside the same way
            aside = self.state_file.with_suffix(f".unreadable-{int(time.time())}")
            self.state_file.rename(aside)
            return f"snapshot unreadable ({type(error).__name__}); moved to {aside.name}"
        return f"restored in {time.perf_counter() - started:.2f}s"

    def save(self, *, force: bool = False) -> int:
        """Write a snapshot if anything changed since the last one; returns bytes written."""
        with self._save_lock:
            if not force and self._gate.changes == self._saved_changes:
                return 0
            with self._gate.exclusive():
                changes = self._gate.changes
                data = snapshot()
            temporary = self.state_file.with_suffix(".tmp")
            temporary.write_bytes(data)
            temporary.replace(self.state_file)
            self._saved_changes = changes
            return len(data)

    def install_gate(self) -> None:
        """Route every request through the gate (moto's WSGI app is a class attribute)."""
        gate = self._gate
        original = werkzeug_app.DomainDispatcherApplication.__call__

        def gated(app: Any, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
            if _is_long_poll(environ):
                gate.changes += 1  # receives change visibility; counted, not gated
                return original(app, environ, start_response)  # type: ignore[no-any-return]
            gate.enter()
            try:
                return original(app, environ, start_response)  # type: ignore[no-any-return]
            finally:
                gate.leave(changed=not _is_read_only(environ))

        werkzeug_app.DomainDispatcherApplication.__call__ = gated  # type: ignore[method-assign,assignment]

    def serve_forever(self) -> None:
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        self.install_gate()
        self._server.start()
        _say(f"listening on port {self._server._port}")
        while not stop.wait(self.autosave_seconds):
            try:
                self.save()
            except Exception as error:  # noqa: BLE001 - keep serving; the next save may work
                _say(f"autosave failed: {type(error).__name__}: {error}")
        self._gate.close()
        size = self.save(force=True)
        _say(f"saved {size} bytes to {self.state_file.name}")
        self._server.stop()


def _say(message: str) -> None:
    sys.stdout.write(f"{message}\n")
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4566)
    parser.add_argument("--state", type=Path, required=True)
    parser.add_argument("--autosave", type=float, default=2.0)
    args = parser.parse_args(argv)
    args.state.parent.mkdir(parents=True, exist_ok=True)
    # One line per request from werkzeug would drown the stack's own logs.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    emulator = PersistentEmulator(
        host=args.host, port=args.port, state_file=args.state, autosave_seconds=args.autosave
    )
    _say(emulator.load())
    emulator.serve_forever()


if __name__ == "__main__":
    main()
