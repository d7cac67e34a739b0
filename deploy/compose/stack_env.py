"""Compose entrypoint of the six services: export what provisioning created, then exec.

The one-shot ``provision`` service writes the identifiers that only exist after provisioning
(the Cognito pool and client ids, the queue URLs) to ``/var/lib/collections/stack.json`` on a
shared volume. Each service container runs ``python /opt/collections/stack_env.py <command>``:
this reads the file, sets the variables the settings expect (without overriding any the
environment already sets) and replaces itself with ``<command>``. Standard library only, and
mounted from the repository, so the images stay free of compose-only glue.
"""

import json
import os
import sys
from pathlib import Path

STACK_FILE = Path(os.environ.get("STACK_FILE", "/var/lib/collections/stack.json"))


def stack_environment(outputs: dict[str, object]) -> dict[str, str]:
    """The variables for the services, from provision's StackOutputs JSON."""
    env = {
        "COGNITO_USER_POOL_ID": str(outputs["user_pool_id"]),
        "COGNITO_CLIENT_ID": str(outputs["app_client_id"]),
    }
    queue_urls = outputs["queue_urls"]
    assert isinstance(queue_urls, dict)
    for queue, url in queue_urls.items():
        env[f"{queue.removeprefix('collections-').upper()}_QUEUE_URL"] = str(url)
    return env


def main(argv: list[str]) -> None:
    if not argv:
        sys.exit("usage: stack_env.py COMMAND [ARG...]")
    outputs = json.loads(STACK_FILE.read_text())
    for name, value in stack_environment(outputs).items():
        os.environ.setdefault(name, value)
    os.execvp(argv[0], argv)  # noqa: S606 - the container's own command, from compose.yaml


if __name__ == "__main__":
    main(sys.argv[1:])
