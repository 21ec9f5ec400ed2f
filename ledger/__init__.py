"""Commons Ledger's domain core: a multi-commodity double-entry ledger.

See ``docs/ledger.md`` for the guarantees of each entity and the tests that prove them.
"""
