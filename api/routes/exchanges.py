"""Time-bank exchanges: an hour of help recorded as a pending entry until it is confirmed."""

from __future__ import annotations

from litestar.handlers import HTTPRouteHandler

COMMUNITY_HANDLERS: list[HTTPRouteHandler] = []
"""Handlers under ``/communities/{slug}``."""
