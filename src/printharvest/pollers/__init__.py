"""Live connectors: pollers that pull finished jobs from printers and their APIs.

The built-in pollers are registered in :mod:`printharvest.connectors.builtin` (``POLLERS``);
:class:`~printharvest.pollers.service.PollerService` runs them (import it from
``printharvest.pollers.service``).
"""
