"""Commons Ledger's outer layer: settings, the command line and (with the API issue) the Litestar
application. The composition root lives here; nothing imports ``api``."""
