"""Lambda code of the migration custom resource (deployed as a plain asset, no dependencies)."""
