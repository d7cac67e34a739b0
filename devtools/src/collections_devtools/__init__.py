"""Dev tooling for Collections: never imported by a service, never in a service image."""
