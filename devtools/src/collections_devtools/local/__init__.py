"""The local stack behind ``make up``: embedded PostgreSQL, the AWS emulator, six services."""
