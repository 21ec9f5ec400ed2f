"""The books: accounts, entries, the ordered checks, balances and the one idempotent write."""
