"""The audit trail: the hash chain of every write, the outbox of events it carries, reading it
back."""
