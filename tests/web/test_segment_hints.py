"""A part made from a segment shows the segment's name as a hint, only where paths show."""

from __future__ import annotations

from pathlib import Path

import httpx

from printharvest.app import App
from printharvest.testing.seg_synth import write_seg_nrrd
from printharvest.web import create_app
from tests.support.webserver import serving

KIDNEY = ("SCT", "64033007", "Kidney")


def _home(home: Path, inbox: Path, config: str = "") -> App:
    write_seg_nrrd(inbox / "3DP-2026-070" / "seg.seg.nrrd", [
        ("Kidney", {"type": KIDNEY}), ("Blob SEGHINTQ", {"type": ("SCT", "1", "x")})])
    if config:
        home.mkdir(parents=True, exist_ok=True)
        (home / "printharvest.yaml").write_text(config, encoding="utf-8")
    app = App.open(home)
    app.cases.ingest(app.harvester.harvest_paths([inbox], grouping="case"))
    return app


def test_unknown_segment_is_a_part_to_type_with_its_name_as_hint(tmp_path: Path) -> None:
    app = _home(tmp_path / "home", tmp_path / "inbox")
    try:
        with serving(create_app(app)) as url, httpx.Client(base_url=url, timeout=60) as client:
            page = client.get("/cases/1").text
        assert "segment: Blob SEGHINTQ" in page  # the part to type, with its hint
        assert 'id="f-parts-2-structure"' in page  # a structure to choose, nothing prefilled
        assert 'name="parts.2.structure"' in page
        assert "Other harvested facts" not in page or "parts.2.segment" not in page
    finally:
        app.close()


def test_no_segment_names_when_paths_are_hidden(tmp_path: Path) -> None:
    app = _home(tmp_path / "home", tmp_path / "inbox", "web:\n  show_paths: never\n")
    try:
        with serving(create_app(app)) as url, httpx.Client(base_url=url, timeout=60) as client:
            page = client.get("/cases/1").text
        assert "SEGHINTQ" not in page and 'id="f-parts-2-structure"' in page
    finally:
        app.close()
