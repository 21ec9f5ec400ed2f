"""Commons Ledger's outer layer: the composition root (``api.bootstrap``: settings → engine →
every service), the Litestar application over it (``api.app``, routes in ``api.http``, member
pages in ``api.web``) and the ``commons-ledger`` command (``api.cli``). Nothing imports ``api``."""
