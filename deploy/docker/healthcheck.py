"""Container health check: exit 0 if this container's service answers ``GET /health`` with 200.

Copied into every image as /app/healthcheck.py and used by Docker's HEALTHCHECK, compose and
the ECS task definitions alike. Standard library only: the images carry no curl.
"""

import os
import sys
import urllib.error
import urllib.request


def main() -> int:
    service = os.environ["COLLECTIONS_SERVICE"]
    port = os.environ[f"{service.upper()}_PORT"]
    url = f"http://127.0.0.1:{port}/health"
    try:
        with urllib.request.urlopen(url, timeout=4) as response:
            return 0 if response.status == 200 else 1
    except (urllib.error.URLError, OSError) as error:  # 503 arrives as HTTPError (a URLError)
        sys.stderr.write(f"{url}: {error}\n")
        return 1


if __name__ == "__main__":
    sys.exit(main())
