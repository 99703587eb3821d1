"""The HarvestRecord reference (shipped JSON Schema and docs page) follows the model."""

from __future__ import annotations

from printharvest.models import HarvestRecord
from printharvest.schema import build_schema, load_schema, main, markdown, missing_notes
from printharvest.vocab import RecordKind
from tests.support.paths import REPO

DOCS_PAGE = REPO / "docs" / "record.md"


def test_every_model_field_has_a_note() -> None:
    assert missing_notes() == []


def test_the_shipped_schema_and_docs_page_are_up_to_date() -> None:
    # If this fails: uv run python -m printharvest.schema docs/record.md
    assert main(["--check", str(DOCS_PAGE)]) == 0
    assert load_schema() == build_schema()


def test_the_schema_describes_every_field_with_unit_and_values() -> None:
    schema = load_schema()
    assert set(schema["properties"]) == set(HarvestRecord.model_fields)
    assert "Unit: seconds." in schema["properties"]["print_time_s"]["description"]
    material = schema["$defs"]["Material"]["properties"]
    assert "Unit: g." in material["used_g"]["description"]
    assert schema["properties"]["kind"]["enum"] == list(RecordKind.__args__)  # type: ignore[attr-defined]
    page = markdown()
    for field in HarvestRecord.model_fields:
        assert f"| `{field}` |" in page
    assert "`vat_photopolymerization`" in page and "| `volume_ml` | number | mL (cm³) |" in page
