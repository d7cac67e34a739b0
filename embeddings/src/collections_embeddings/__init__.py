"""Text embedding providers shared by the embedder (documents) and search (queries)."""
