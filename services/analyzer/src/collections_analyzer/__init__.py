"""Collections analyzer service (SQS worker)."""
