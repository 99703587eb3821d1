"""The lab's own numbers: the registry's questions answered for this lab, with charts.

``build_report`` reads cases through the CaseService; ``render_html`` and ``render_csv``
write the same tables. Nothing in a report names a file, job, folder or case key.
"""

from __future__ import annotations

from printharvest.reports.builder import Report, build_report
from printharvest.reports.render import render_csv, render_html

__all__ = ["Report", "build_report", "render_csv", "render_html"]
