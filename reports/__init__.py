"""Sustainability reports and treasurer exports, built from read-side SQL aggregations.

Empty until the reports issue lands; ``ledger.books.service.Ledger.trial_balance`` already gives the
per-commodity trial balance."""
