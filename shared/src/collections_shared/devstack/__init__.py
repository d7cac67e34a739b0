"""The local stack behind ``make up``: embedded PostgreSQL, the AWS emulator, six services.

Nothing here is imported by a service at run time; it needs the ``devstack`` extra.
"""
