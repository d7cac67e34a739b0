"""The six services as deployed: size, port, role in the topology and the secrets they read.

One table, so that the IAM grants, the environment and the scaling of each service can be
read side by side (and the tests can walk it).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Kind(Enum):
    PUBLIC_HTTP = "public-http"
    """Behind the load balancer."""
    INTERNAL_HTTP = "internal-http"
    """Reached by the gateway through Cloud Map DNS."""
    WORKER = "worker"
    """An SQS consumer; serves only ``/health``; scales on its queue's depth."""


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    port: int
    kind: Kind
    cpu: int
    """Fargate CPU units (1024 = one vCPU) in prod."""
    memory_mib: int
    compact_cpu: int
    """Dev (``compact_tasks``): a valid Fargate size that still fits the service's model."""
    compact_memory_mib: int
    provider_keys: tuple[str, ...] = ()
    """Keys of the provider secret this service gets as environment variables."""
    stop_timeout_seconds: int = 30
    """How long SIGTERM may take: workers drain in-flight messages first (Fargate max 120)."""

    @property
    def module(self) -> str:
        return f"collections_{self.name}"


ANTHROPIC = "ANTHROPIC_API_KEY"
VOYAGE = "VOYAGE_API_KEY"
DRAIN = 120

SERVICES = (
    ServiceSpec("gateway", 8000, Kind.PUBLIC_HTTP, 512, 1024, 256, 512),
    # Decoding a 50-megapixel upload takes a few hundred MB at once.
    ServiceSpec("ingest", 8001, Kind.WORKER, 512, 1024, 256, 1024, stop_timeout_seconds=DRAIN),
    # OCR (Tesseract) and image encoding for the vision model need the most CPU.
    ServiceSpec(
        "analyzer",
        8002,
        Kind.WORKER,
        1024,
        2048,
        512,
        1024,
        (ANTHROPIC,),
        stop_timeout_seconds=DRAIN,
    ),
    # The offline embedding model lives in memory in the embedder and in search.
    ServiceSpec(
        "embedder", 8003, Kind.WORKER, 512, 1024, 256, 1024, (VOYAGE,), stop_timeout_seconds=DRAIN
    ),
    ServiceSpec("search", 8004, Kind.INTERNAL_HTTP, 512, 1024, 256, 1024, (ANTHROPIC, VOYAGE)),
    ServiceSpec("chat", 8005, Kind.INTERNAL_HTTP, 512, 1024, 256, 512, (ANTHROPIC, VOYAGE)),
)
