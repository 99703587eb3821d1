"""The data manager's web page (``printharvest serve``)."""

from __future__ import annotations

from printharvest.web.app import WebApp, create_app

__all__ = ["WebApp", "create_app"]
