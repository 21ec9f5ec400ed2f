"""The cooperative economy: charts of accounts, restricted funds, barter and schedules."""
