"""The base of every controller: its routes in the order the class declares them."""

from __future__ import annotations

import litestar
from litestar.handlers.base import BaseRouteHandler


class Controller(litestar.Controller):
    """A Litestar controller whose handlers register in declaration order.

    Litestar registers a controller's handlers sorted by name, and the OpenAPI document lists
    paths in the order they register. A controller here declares a resource as it reads best —
    the collection, an item, then its actions — and the document keeps that order.
    """

    def get_route_handlers(self) -> list[BaseRouteHandler]:
        declared: dict[str, int] = {}
        for klass in reversed(type(self).__mro__):
            for name in vars(klass):
                declared.setdefault(name, len(declared))
        handlers = super().get_route_handlers()
        return sorted(handlers, key=lambda handler: declared[handler.handler_name])
