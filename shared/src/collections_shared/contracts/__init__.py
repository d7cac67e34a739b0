"""The wire contracts of the internal HTTP services that the gateway exposes.

The search and chat services define their APIs with these structs, and the gateway validates and
documents the same bodies before it forwards them: one definition, so the two cannot drift.
"""
