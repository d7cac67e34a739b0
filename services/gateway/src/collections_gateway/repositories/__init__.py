"""SQL of the gateway's curation features, by concern (the rest is ``repository.py``).

Every function runs inside a tenant transaction (RLS applies) and also filters by the tenant,
except those of :mod:`.sharing` that read through a link, which have no tenant and can only call
the ``SECURITY DEFINER`` functions of migration 0005.
"""
