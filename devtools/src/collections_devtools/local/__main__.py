"""``python -m collections_devtools.local up``: run the whole system until Ctrl-C."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys

from collections_devtools.local.readiness import StackError
from collections_devtools.local.stack import LocalStack, StackConfig


def _banner(stack: LocalStack, seconds: float) -> str:
    gateway = stack.url("gateway")
    lines = [
        "",
        f"Collections is up ({seconds:.1f}s).",
        f"  Web UI      {gateway}",
        f"  API docs    {gateway}/schema",
        "  Health      "
        + "  ".join(
            f"{name}:{stack.config.port(name)}"
            for name in stack.processes
            if name not in {"postgres", "aws"}
        ),
        f"  Logs        {stack.console.log_dir}",
        f"  State       {stack.config.home}",
        "Press Ctrl-C to stop.",
        "",
    ]
    return "\n".join(lines)


async def _up(config: StackConfig) -> int:
    stack = LocalStack(config)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        starting = asyncio.create_task(stack.start())
        stopped = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait({starting, stopped}, return_when=asyncio.FIRST_COMPLETED)
        if starting in done:
            seconds = starting.result()
            sys.stdout.write(_banner(stack, seconds) + "\n")
            sys.stdout.flush()
            await stop.wait()
        else:
            starting.cancel()
        stack.console.say("stopping")
        return 0
    except StackError as error:
        sys.stderr.write(f"make up: {error}\n")
        return 1
    finally:
        await stack.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="collections-local-stack", description=__doc__)
    parser.add_argument("command", choices=["up"], nargs="?", default="up")
    parser.add_argument("--quiet", action="store_true", help="write logs to files only")
    args = parser.parse_args(argv)
    config = StackConfig(echo_logs=not args.quiet)
    raise SystemExit(asyncio.run(_up(config)))


if __name__ == "__main__":
    main()
