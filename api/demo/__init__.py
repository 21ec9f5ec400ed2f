"""The demo community that ``commons-ledger demo`` seeds."""
