"""One module (or package, for governance) per concept; handlers translate HTTP to a use case and
back. A concept whose routes share a path, tags and a guard is a controller declaring them once
(``common.controller``); services are injected by name (``dependencies``), never looked up."""
