"""A column map can leave out rows of jobs still printing (skip_rows)."""

from __future__ import annotations

from pathlib import Path

import pytest

from printharvest.connectors.base import HarvestContext
from printharvest.connectors.joblog.connector import JobLogConnector
from printharvest.connectors.joblog.maps import load_map
from printharvest.connectors.probe import probe_file
from printharvest.exceptions import ConfigError, CorruptFileError

MAP = """\
name: queue-export
recognise:
  required_columns: [Job id, Status, Minutes]
columns:
  Job id: case_key
  Minutes: {field: print_duration_s, unit: minutes}
  Grams: material.used_g
skip_rows:
  - column: Status
    values: [Printing, "In progress", queued]
"""


def _rules(tmp_path: Path, text: str = MAP) -> Path:
    rules = tmp_path / "rules"
    (rules / "joblogs").mkdir(parents=True)
    (rules / "joblogs" / "queue.yaml").write_text(text, encoding="utf-8")
    return rules


def _harvest(rules: Path, table: Path) -> list:  # type: ignore[type-arg]
    connector = JobLogConnector()
    connector.context = HarvestContext(rules_dir=rules)
    return connector.harvest(probe_file(table))


def test_rows_of_jobs_still_printing_are_skipped(tmp_path: Path) -> None:
    rules = _rules(tmp_path)
    table = tmp_path / "queue.csv"
    table.write_text("Job id,Status,Minutes,Grams\n"
                     "J1,Finished,90,12\n"
                     "J2,printing,30,\n"
                     "J3,  IN   PROGRESS ,10,\n"
                     "J4,Failed,5,1\n"
                     "J5,Queued,,\n", encoding="utf-8")
    records = _harvest(rules, table)
    assert [r.source.index for r in records] == [0, 3]  # indices still point at the rows
    assert [r.print_duration_s for r in records] == [5400, 300]


def test_a_log_of_only_running_jobs_says_so(tmp_path: Path) -> None:
    rules = _rules(tmp_path)
    table = tmp_path / "queue.csv"
    table.write_text("Job id,Status,Minutes\nJ2,Printing,30\n", encoding="utf-8")
    with pytest.raises(CorruptFileError, match=r"only rows the map skips \(1, skip_rows\)"):
        _harvest(rules, table)


def test_skip_rows_needs_words(tmp_path: Path) -> None:
    rules = _rules(tmp_path, MAP.replace("values: [Printing, \"In progress\", queued]",
                                         "values: []"))
    with pytest.raises(ConfigError, match=r"queue.yaml:\d+: skip_rows.0.values"):
        load_map(rules / "joblogs" / "queue.yaml")
