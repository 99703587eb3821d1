"""Printer pollers: pull finished jobs from printers and their APIs. A public extension point.

A lab's poller is a :class:`PrinterPoller` subclass listed in a module's ``POLLERS`` list
(a drop-in file or an entry-point package, like connectors). What it may use, all here:

* :class:`PrinterPoller` (the base class) and :class:`PollBatch` (what ``poll`` returns);
* :func:`polled_record`: a print record without a file probe, identified by printer name and
  the job's own id (never a job or file name);
* :func:`request_json`: one HTTP call whose faults (timeouts, refused, 401/403, 429 with
  ``Retry-After``, 5xx, not JSON, too large) become one-line :class:`PollerError`;
  :func:`as_dict` checks an answer is a JSON object;
* :func:`base_url`, :func:`timeout_of`: the printer's address and request timeout from its
  settings; :func:`secret` / :func:`resolve_secret`: a secret reference resolved at poll time;
* :class:`PollerError`: what ``poll`` raises for a printer that cannot be polled.

``self.settings`` is the printer's entry from ``rules/printers.yaml`` as a plain dict (see
:class:`PrinterPoller`). The built-ins register like plugins through :mod:`.builtin`;
:class:`~printharvest.pollers.service.PollerService` runs them (import it from
``printharvest.pollers.service``). ``docs/pollers.md`` has a worked example package.
"""

from __future__ import annotations

from printharvest.exceptions import PollerError
from printharvest.pollers.base import (
    PollBatch,
    PrinterPoller,
    as_dict,
    base_url,
    polled_record,
    request_json,
    resolve_secret,
    retry_after,
    secret,
    timeout_of,
)

__all__ = [
    "PollBatch",
    "PollerError",
    "PrinterPoller",
    "as_dict",
    "base_url",
    "polled_record",
    "request_json",
    "resolve_secret",
    "retry_after",
    "secret",
    "timeout_of",
]
