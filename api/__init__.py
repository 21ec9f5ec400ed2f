"""Commons Ledger's outer layer: the composition root (``api.bootstrap``: settings → engine →
every service), the Litestar application over it (``api.app``; the JSON API in ``api.http``, the
member page in ``api.web``), the ``commons-ledger`` command (``api.cli``) and the demo seed
(``api.demo``). Nothing imports ``api``."""
