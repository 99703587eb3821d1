"""A real browser (Debian's Chromium through Playwright) completes a sample case.

From needs_clinical to ready, through a refused "mark ready" and two inline validation errors
(text in a number field, a value out of range). The screenshot lands in test-artifacts/.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from printharvest.app import App
from printharvest.dictionary.elements import Element
from printharvest.web import create_app
from tests.support.webserver import serving

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(),
                                reason="/usr/bin/chromium is not installed (CI installs it)")


@pytest.fixture
def served(home: Path, sample_jobs_copy: Path) -> Iterator[tuple[App, str]]:
    app = App.open(home)
    outcome = app.harvester.harvest_paths([sample_jobs_copy], grouping="case")
    app.cases.ingest(outcome)
    with serving(create_app(app)) as url:
        yield app, url
    app.close()


def fill(page, name: str, element: Element) -> None:  # type: ignore[no-untyped-def]
    dom = "#f-" + name.replace(".", "-")
    if element.type == "choice":
        page.select_option(dom, element.values[0])
    elif element.type == "multi_choice":
        page.check(f'input[name="{name}"][value="{element.values[0]}"]')
    elif element.type == "duration":
        if name.endswith("_clinician"):
            page.fill(dom, "1")
            page.fill(f'input[name="{name}.minutes"]', "30")
        else:
            page.check(f'input[name="{name}.unknown"]')
    elif element.type == "boolean":
        page.select_option(dom, "yes")
    elif element.type in ("integer", "number"):
        page.fill(dom, str(int(element.min) if element.min is not None else 1))
    else:
        page.fill(dom, "free text")


def test_browser_completes_a_case(served: tuple[App, str]) -> None:
    from playwright.sync_api import expect, sync_playwright

    app, url = served
    case = next(c for c in app.cases.list() if c.case_key == "3DP-2026-002")
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport={"width": 1366, "height": 800})
        page.goto(url + "/")
        expect(page.locator(".counts a", has_text="needs clinical")).to_contain_text("3")
        page.click(f"text={case.case_key}")
        expect(page.locator("#case-status")).to_have_text("needs clinical")
        # Harvested values are shown filled, with their provenance.
        expect(page.locator("#f-parts-1-structure")).to_have_value("bone")  # a registry term
        expect(page.locator("#f-parts-1-structure ~ .meta, #f-parts-1-structure-msg")
               .first).to_contain_text("anatomy.yaml#mandible")

        page.click("#mark-ready")
        expect(page.locator("#flash")).to_contain_text("not ready yet")
        expect(page.locator("#flash")).to_have_class("banner bad")
        expect(page.locator("#f-model-guide_type-msg")).to_contain_text("Guide type is required")
        # a print's parts are offered as the digital model's parts, not as free text
        expect(page.locator('input[name="prints.1.parts"]')).to_have_count(
            app.dictionary.group_count({n: f.value for n, f in case.fields.items()}, "parts"))
        page.locator("#s-model").screenshot(path=str(ARTIFACTS / "case-problems.png"))

        for name in case.missing:
            ref = app.dictionary.resolve(name)
            assert ref is not None
            fill(page, name, ref.element)
        page.fill("#f-prints-1-copies", "many")  # wrong type: shown back, not saved
        page.keyboard.press("Control+s")
        expect(page.locator("#f-prints-1-copies-msg")).to_contain_text("is not a whole number")
        expect(page.locator("#f-prints-1-copies")).to_have_value("many")  # kept as typed
        page.fill("#f-prints-1-copies", "500")  # right type, out of range: refused as well
        page.click("#save")
        expect(page.locator("#flash")).to_contain_text("were not saved")
        expect(page.locator("#f-prints-1-copies-msg")).to_contain_text(
            "expected a whole number from 1 to 100")
        expect(page.locator("#f-prints-1-copies")).to_have_attribute("aria-invalid", "true")
        page.fill("#f-prints-1-copies", "2")
        page.click("#save")
        expect(page.locator("#summary")).to_contain_text("Every field is valid")
        page.click("#mark-ready")
        expect(page.locator("#case-status")).to_have_text("ready")
        expect(page.locator("#flash")).to_have_text("Saved and marked ready.")
        page.screenshot(path=str(ARTIFACTS / "case-ready.png"), full_page=True)
        page.goto(url + "/?status=ready")
        expect(page.locator("table.cases tbody tr")).to_have_count(1)
        page.screenshot(path=str(ARTIFACTS / "case-list.png"))
        browser.close()

    done = app.cases.get(case.id)
    assert done.status == "ready" and done.missing == []
    assert done.value("prints.1.copies") == 2
    log = app.cases.audit(case.id)
    assert any(e["field"] == "status" and e["new"] == "ready" and e["actor"] == "web:local"
               for e in log)
