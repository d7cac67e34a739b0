"""Collections ingest service (SQS worker)."""
