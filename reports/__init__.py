"""Sustainability reports and journal exports, read from the ledger's tables.

``queries/`` holds the report's and the exports' SQL (each report read in one snapshot);
the modules beside it are pure builders from those figures to the report's values (financial,
resilience, self-sufficiency, time-bank health, budget vs actual, the glossary); ``render/``
writes a built report as HTML, PDF, XLSX or CSV; ``exports/`` streams the journal as Beancount,
hledger or CSV. ``reports`` reads ``ledger`` and never imports ``api``."""
