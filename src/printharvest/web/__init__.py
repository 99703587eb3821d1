"""The data manager's web page (``printharvest serve``)."""

from __future__ import annotations

from .app import WebApp, create_app

__all__ = ["WebApp", "create_app"]
