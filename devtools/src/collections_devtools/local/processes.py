"""Supervised child processes: logs prefixed by name, restart with backoff, clean shutdown.

Like ECS restarting a task, a process that exits on its own is started again after a backoff
(1 s doubling to 30 s, reset once it has stayed up for a minute), and the stack says so. Each
child runs in its own process group and is told to die with its parent (``PR_SET_PDEATHSIG``), so
stopping the stack, even by killing it, leaves nothing behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

_PR_SET_PDEATHSIG = 1
_STABLE_AFTER_SECONDS = 60.0
_MAX_BACKOFF_SECONDS = 30.0


def _die_with_parent() -> None:
    """Runs in the child before exec: SIGTERM it when the stack process goes away."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass
class ProcessSpec:
    name: str
    argv: list[str]
    env: dict[str, str]
    stop_signal: signal.Signals = signal.SIGTERM
    stop_timeout: float = 35.0
    credentials: dict[str, Any] = field(default_factory=dict)
    """``user``/``group``/``extra_groups`` for :func:`asyncio.create_subprocess_exec`."""
    before_start: Callable[[], None] | None = None
    after_restart: Callable[[], Awaitable[None]] | None = None


class Console:
    """Writes prefixed lines to the terminal and each process's log file."""

    def __init__(self, log_dir: Path, *, echo: bool = True, out: TextIO | None = None) -> None:
        self.log_dir = log_dir
        self.echo = echo
        self._out = out or sys.stdout
        self._files: dict[str, TextIO] = {}
        self._width = 9

    def line(self, name: str, text: str) -> None:
        log = self._files.get(name)
        if log is None:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            log = self._files[name] = (self.log_dir / f"{name}.log").open("a", buffering=1)
        log.write(f"{text}\n")
        if self.echo:
            self._out.write(f"{name:<{self._width}} | {text}\n")
            self._out.flush()

    def say(self, text: str) -> None:
        self.line("stack", text)

    def close(self) -> None:
        for log in self._files.values():
            log.close()


class ManagedProcess:
    """One supervised child."""

    def __init__(self, spec: ProcessSpec, console: Console) -> None:
        self.spec = spec
        self.console = console
        self.process: asyncio.subprocess.Process | None = None
        self.restarts = 0
        self._stopping = False
        self._watcher: asyncio.Task[None] | None = None
        self._pumps: set[asyncio.Task[None]] = set()

    @property
    def stopping(self) -> bool:
        """True once :meth:`stop` was called (it may be called while the watcher sleeps)."""
        return self._stopping

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    async def start(self) -> None:
        """Start the process and keep it running until :meth:`stop`."""
        await self._spawn()
        self._watcher = asyncio.create_task(self._watch(), name=f"watch-{self.spec.name}")

    async def _spawn(self) -> None:
        if self.spec.before_start:
            self.spec.before_start()
        self.process = await asyncio.create_subprocess_exec(
            *self.spec.argv,
            env=self.spec.env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent,
            limit=1024 * 1024,
            **self.spec.credentials,
        )
        pump = asyncio.create_task(self._pump(self.process))
        self._pumps.add(pump)
        pump.add_done_callback(self._pumps.discard)

    async def _pump(self, process: asyncio.subprocess.Process) -> None:
        assert process.stdout is not None
        while line := await process.stdout.readline():
            self.console.line(self.spec.name, line.decode(errors="replace").rstrip())

    async def _watch(self) -> None:
        backoff = 1.0
        while True:
            assert self.process is not None
            started = time.monotonic()
            code = await self.process.wait()
            if self._stopping:
                return
            if time.monotonic() - started > _STABLE_AFTER_SECONDS:
                backoff = 1.0
            self.restarts += 1
            self.console.say(
                f"{self.spec.name} exited with code {code}; restarting in {backoff:.0f}s "
                f"(restart #{self.restarts})"
            )
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, _MAX_BACKOFF_SECONDS)
            if self.stopping:
                return
            await self._spawn()
            if self.spec.after_restart:
                try:
                    await self.spec.after_restart()
                except Exception as error:  # noqa: BLE001 - report and keep supervising
                    self.console.say(f"{self.spec.name}: after-restart step failed: {error}")

    def kill(self, sig: signal.Signals = signal.SIGKILL) -> None:
        """Send ``sig`` to the process group (chaos tests); the watcher restarts it."""
        if self.process and self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, sig)

    async def stop(self) -> None:
        """Stop for good: the stop signal, then SIGKILL after the timeout."""
        self._stopping = True
        process = self.process
        if process is not None and process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, self.spec.stop_signal)
            try:
                await asyncio.wait_for(process.wait(), timeout=self.spec.stop_timeout)
            except TimeoutError:
                self.console.say(f"{self.spec.name} did not stop in time; killing it")
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                await process.wait()
        if self._watcher:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
