"""Periodic jobs: work that falls due with time, run once per community, job and period."""
