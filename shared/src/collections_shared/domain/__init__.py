"""Domain types: items, analyses, preferences, object keys, accepted media, and the wire contracts
of the internal search and chat APIs. Pure values and rules; no I/O."""
