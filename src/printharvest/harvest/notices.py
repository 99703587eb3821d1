"""What went wrong while loading connectors and column maps, said the same way everywhere.

``inspect``, ``ingest``, ``connectors list``, ``connectors test`` and ``doctor`` print these
lines; the harvester adds the column-map problem to the reason a table nobody claims is
refused with (which the watch service writes beside the quarantined file). A map problem
names the file, the key and the line (it is the map's :class:`~printharvest.exceptions.
ConfigError` text).
"""

from __future__ import annotations

from printharvest.connectors.joblog.maps import load_maps
from printharvest.connectors.probe import FileProbe
from printharvest.harvest.plugins import PluginHost

JOBLOG_ID = "joblog"


def map_problems(host: PluginHost) -> list[str]:
    """The column maps that did not load (file:line: key: why), if the job-log connector is on."""
    if JOBLOG_ID not in host.connectors:
        return []
    return list(load_maps(host.rules_dir).problems)


def load_notices(host: PluginHost) -> list[str]:
    """One line per connector, column map or switched-off id that is not in use as meant."""
    lines = [f"connector failed to load: [{f.route}] {f.origin}: {f.reason}"
             for f in host.failures]
    lines += [f"job-log column map failed to load: {p}" for p in map_problems(host)]
    lines += [f"disabled_connectors names {ident!r}, which is not installed"
              for ident in host.unknown_disabled]
    return lines


def unclaimed_reason(host: PluginHost, probe: FileProbe) -> str:
    """Why nobody took ``probe``: with the connectors whose detect failed on it, and the broken
    column map when the file looks like a table."""
    reason = "no connector recognises this file"
    scored, problems = host.last_detect_problems
    if scored == probe.display_path and problems:
        # A detect that hung, died or returned nonsense: name it, it may be why.
        detail = "; ".join(problems)
        detail = detail if len(detail) <= 300 else detail[:299] + "…"
        reason += f" (detect of {detail})"
    joblog = host.connectors.get(JOBLOG_ID)
    if joblog is None or not probe.matches(joblog.connector.patterns):
        return reason
    problems = map_problems(host)
    if not problems:
        return reason
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return f"{reason}; a job-log column map failed to load: {problems[0]}{more}"
