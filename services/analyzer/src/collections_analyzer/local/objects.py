"""Object tags from the offline Node detector (``services/analyzer/tagger``), over pipes.

One long-running ``node tagger.js`` per process, started on first use: loading CenterNet costs
~0.1-0.5 s, a request ~120 ms. Requests are JSON lines, one at a time. Whatever goes wrong (no
``node``, modules not installed, a crash, a hang) costs the analysis its object tags, never the
analysis itself: the client logs a warning and answers ``[]``. A dead process is restarted on the
next request; one that fails to start is not retried for a cool-down period.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import shutil
import time
from pathlib import Path
from typing import NoReturn

import msgspec
import structlog

from collections_analyzer.local.vocabulary import COCO_CLASSES

logger = structlog.get_logger(__name__)

DEFAULT_TAGGER_DIR = Path(__file__).resolve().parents[3] / "tagger"
"""``services/analyzer/tagger`` in the source tree (workspace members install editable)."""
START_TIMEOUT = 30.0
REQUEST_TIMEOUT = 15.0
RETRY_START_AFTER = 60.0
MAX_LINE = 1024 * 1024


class Detection(msgspec.Struct, frozen=True):
    """One detected object: a COCO class, the detector's score, and the box's share of the image."""

    label: str
    score: float
    area: float = 0.0


class _Reply(msgspec.Struct):
    id: str | None = None
    objects: list[Detection] = msgspec.field(default_factory=list)
    error: str | None = None
    ready: bool = False


_decode_reply = msgspec.json.Decoder(_Reply).decode


class TaggerUnavailableError(Exception):
    """The Node process cannot be started or stopped answering."""


class ObjectTagger:
    """Client of the Node object tagger; one per process, safe to share between tasks."""

    def __init__(
        self,
        tagger_dir: Path = DEFAULT_TAGGER_DIR,
        *,
        node: str = "node",
        start_timeout: float = START_TIMEOUT,
        request_timeout: float = REQUEST_TIMEOUT,
    ) -> None:
        self._dir = tagger_dir
        self._node = node
        self._start_timeout = start_timeout
        self._request_timeout = request_timeout
        self._process: asyncio.subprocess.Process | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stderr_task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._ids = itertools.count(1)
        self._retry_start_at = 0.0
        self.missing_reason = ""
        """Why the tagger cannot run at all (no node, not installed); empty when it can."""

    @property
    def available(self) -> bool:
        """False once it is known that the tagger cannot run on this machine."""
        return not self.missing_reason

    async def detect(self, jpeg: bytes) -> list[Detection]:
        """Objects in a JPEG; ``[]`` (and a logged warning) if the tagger cannot answer."""
        if not self.available or time.monotonic() < self._retry_start_at:
            return []
        self._adopt_running_loop()
        async with self._lock:
            try:
                return await self._request(jpeg)
            except TaggerUnavailableError as error:
                if self.available:
                    logger.warning("local.tagger_failed", error=str(error))
                await self._stop()
                return []

    def _adopt_running_loop(self) -> None:
        # Pipes and locks belong to one event loop; a client reused from another loop (tests,
        # a restarted worker loop) abandons the old process and starts afresh.
        loop = asyncio.get_running_loop()
        if self._loop is not None and self._loop is not loop:
            if self._process is not None and self._process.returncode is None:
                self._process.kill()
            self._process, self._stderr_task = None, None
            self._lock = asyncio.Lock()
        self._loop = loop

    async def _request(self, jpeg: bytes) -> list[Detection]:
        process = await self._running()
        request_id = str(next(self._ids))
        line = msgspec.json.encode({"id": request_id, "base64": base64.b64encode(jpeg).decode()})
        try:
            async with asyncio.timeout(self._request_timeout):
                assert process.stdin is not None
                process.stdin.write(line + b"\n")
                await process.stdin.drain()
                reply = await self._read_reply(process, request_id)
        except TimeoutError as error:
            raise TaggerUnavailableError("no answer in time") from error
        except (ConnectionError, BrokenPipeError) as error:
            raise TaggerUnavailableError(f"pipe closed: {error}") from error
        if reply.error is not None:
            logger.warning("local.tagger_rejected_image", error=reply.error[:200])
            return []
        return [d for d in reply.objects if d.label in COCO_CLASSES and 0 <= d.score <= 1]

    async def _read_reply(self, process: asyncio.subprocess.Process, request_id: str) -> _Reply:
        assert process.stdout is not None
        while True:
            line = await process.stdout.readline()
            if not line:
                raise TaggerUnavailableError(f"exited with {await process.wait()}")
            try:
                reply = _decode_reply(line)
            except msgspec.DecodeError:
                continue  # not a protocol line; the tagger prints nothing else on stdout
            if reply.id == request_id:
                return reply

    async def _running(self) -> asyncio.subprocess.Process:
        if self._process is not None and self._process.returncode is None:
            return self._process
        await self._stop()
        self._process = await self._start()
        return self._process

    async def _start(self) -> asyncio.subprocess.Process:
        node = shutil.which(self._node)
        script = self._dir / "tagger.js"
        if node is None:
            self._give_up(f"{self._node!r} not found on PATH")
        if not script.is_file():
            self._give_up(f"{script} is missing")
        if not (self._dir / "node_modules" / "@vladmandic" / "human").is_dir():
            self._give_up(f"modules not installed in {self._dir} (run tagger/install.sh)")
        process = await asyncio.create_subprocess_exec(
            str(node),
            str(script),
            cwd=self._dir,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            limit=MAX_LINE,
        )
        self._process = process
        self._stderr_task = asyncio.create_task(_log_stderr(process))
        try:
            async with asyncio.timeout(self._start_timeout):
                ready = await self._read_ready(process)
        except (TimeoutError, TaggerUnavailableError, msgspec.DecodeError) as error:
            self._retry_start_at = time.monotonic() + RETRY_START_AFTER
            raise TaggerUnavailableError(f"did not start: {str(error) or 'timeout'}") from error
        logger.info("local.tagger_started", pid=process.pid, load_ms=ready.get("load_ms"))
        return process

    async def _read_ready(self, process: asyncio.subprocess.Process) -> dict[str, object]:
        assert process.stdout is not None
        line = await process.stdout.readline()
        if not line:
            raise TaggerUnavailableError(f"exited with {await process.wait()}")
        ready = msgspec.json.decode(line)
        if not (isinstance(ready, dict) and ready.get("ready") is True):
            raise TaggerUnavailableError("unexpected first line")
        return ready

    def _give_up(self, reason: str) -> NoReturn:
        self.missing_reason = reason
        logger.warning("local.tagger_unavailable", reason=reason)
        raise TaggerUnavailableError(reason)

    async def _stop(self) -> None:
        process, self._process = self._process, None
        task, self._stderr_task = self._stderr_task, None
        if process is not None and process.returncode is None:
            process.kill()
            await process.wait()
        if task is not None and not task.done():
            task.cancel()

    async def aclose(self) -> None:
        """Stop the Node process: EOF on stdin first (it exits cleanly), then kill."""
        self._adopt_running_loop()
        process = self._process
        if process is not None and process.returncode is None and process.stdin is not None:
            process.stdin.close()
            try:
                async with asyncio.timeout(2):
                    await process.wait()
            except TimeoutError:
                pass
        await self._stop()


async def _log_stderr(process: asyncio.subprocess.Process) -> None:
    # Drain stderr so a chatty crash cannot fill the pipe and block the tagger.
    assert process.stderr is not None
    async for line in process.stderr:
        logger.warning("local.tagger_stderr", line=line.decode(errors="replace").rstrip()[:500])
