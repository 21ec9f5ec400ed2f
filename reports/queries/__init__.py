"""Read-side SQL for reports and exports: aggregations over ``ledger.store.tables``, run on a
unit of work's connection so a whole report reads one snapshot."""
