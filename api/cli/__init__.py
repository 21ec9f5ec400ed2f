"""The ``commons-ledger`` command line."""
