"""Commons Ledger's outer layer: settings, the composition root, the Litestar application
(``http/`` for the JSON API, ``web/`` for the member page), the command line (``cli/``) and the
demo seed (``demo/``). Nothing imports ``api``."""
