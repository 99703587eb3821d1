"""The case page in Debian's Chromium: nothing typed is lost, keyboard only, axe-core clean.

Each test drives the real page served by uvicorn on 127.0.0.1 over a real store.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from printharvest.app import App
from printharvest.web import create_app
from tests.support.webserver import serving

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not CHROMIUM.exists(),
                                 reason="/usr/bin/chromium is not installed (CI installs it)")]


@pytest.fixture
def served(home: Path, sample_jobs_copy: Path) -> Iterator[tuple[App, str, int]]:
    app = App.open(home)
    app.cases.ingest(app.harvester.harvest_paths([sample_jobs_copy], grouping="case"))
    case = next(c for c in app.cases.list() if c.case_key == "3DP-2026-002")
    with serving(create_app(app)) as url:
        yield app, url, case.id
    app.close()


@pytest.fixture
def page(served: tuple[App, str, int]) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        context = browser.new_context(viewport={"width": 1366, "height": 768})
        yield context.new_page()
        browser.close()


def test_mark_ready_without_saving_keeps_what_was_typed(served: tuple[App, str, int],
                                                        page: Any) -> None:
    from playwright.sync_api import expect

    app, url, case_id = served
    page.goto(f"{url}/cases/{case_id}")
    # First open: a calm list of what is missing, no field marked invalid.
    expect(page.locator("#summary")).to_contain_text("still to fill")
    expect(page.locator(".field.invalid")).to_have_count(0)
    page.select_option("#f-model-purpose", "surgical_planning")
    page.fill("#f-effort-cad_clinician", "2")
    page.click("#mark-ready")  # no Save before
    expect(page.locator("#flash")).to_contain_text("not ready yet")
    expect(page.locator("#flash")).to_have_class("banner bad")
    expect(page.locator("#f-model-purpose")).to_have_value("surgical_planning")
    case = app.cases.get(case_id)
    assert case.value("model.purpose") == "surgical_planning"
    assert case.value("effort.cad_clinician") == {"hours": 2, "minutes": 0}
    assert case.status == "needs_clinical"
    # After a refusal, every problem is in the one summary alert, and it has the focus.
    assert page.locator("[role=alert]").count() == 2  # the banner and the summary
    expect(page.locator("#summary")).to_be_focused()


def test_invalid_effort_comes_back_as_typed_and_unknown_with_hours_asks(
        served: tuple[App, str, int], page: Any) -> None:
    from playwright.sync_api import expect

    app, url, case_id = served
    page.goto(f"{url}/cases/{case_id}")
    page.fill("#f-effort-cad_clinician", "-1")
    page.fill('input[name="effort.cad_clinician.minutes"]', "75")
    page.fill("#f-effort-segmentation_clinician", "2")
    page.check('input[name="effort.segmentation_clinician.unknown"]')
    page.click("#save")
    expect(page.locator("#flash")).to_contain_text("2 value(s) were not saved")
    expect(page.locator("#f-effort-cad_clinician")).to_have_value("-1")
    expect(page.locator('input[name="effort.cad_clinician.minutes"]')).to_have_value("75")
    expect(page.locator("#f-effort-cad_clinician-msg")).to_contain_text("cannot be negative")
    expect(page.locator("#f-effort-segmentation_clinician-msg")).to_contain_text(
        "untick unknown")
    expect(page.locator("#f-effort-segmentation_clinician")).to_have_value("2")
    expect(page.locator('input[name="effort.segmentation_clinician.unknown"]')).to_be_checked()
    case = app.cases.get(case_id)
    assert case.value("effort.cad_clinician") is None
    assert case.value("effort.segmentation_clinician") is None


def test_a_draft_survives_a_reload_and_leaving_asks_first(served: tuple[App, str, int],
                                                          page: Any) -> None:
    from playwright.sync_api import expect

    app, url, case_id = served
    page.goto(f"{url}/cases/{case_id}")
    page.select_option("#f-imaging-organ_system", "craniomaxillofacial")
    page.fill("#f-effort-consultation_clinician", "3")
    dialogs: list[str] = []

    def answer(dialog: Any) -> None:
        dialogs.append(dialog.type)
        dialog.accept()

    page.on("dialog", answer)
    page.reload()
    assert dialogs == ["beforeunload"]  # unsaved changes: the browser asked before leaving
    expect(page.locator("#draft-note")).to_be_visible()
    expect(page.locator("#f-imaging-organ_system")).to_have_value("craniomaxillofacial")
    expect(page.locator("#f-effort-consultation_clinician")).to_have_value("3")
    assert app.cases.get(case_id).value("imaging.organ_system") is None  # not saved yet
    page.click("#save")
    expect(page.locator("#flash")).to_have_text("Saved.")
    assert app.cases.get(case_id).value("imaging.organ_system") == "craniomaxillofacial"
    page.goto(f"{url}/cases/{case_id}")  # saved: no draft, nothing to ask
    expect(page.locator("#draft-note")).to_be_hidden()
    assert dialogs == ["beforeunload"]


def test_a_stored_value_the_form_cannot_show_is_not_dropped(served: tuple[App, str, int],
                                                             page: Any) -> None:
    from playwright.sync_api import expect

    app, url, case_id = served
    # Stored before the rule "refuse invalid values" (or by an older version).
    app.store.set_user_field(case_id, "imaging.modalities", ["CT", "XR"], "cli:someone")
    page.goto(f"{url}/cases/{case_id}")
    kept = page.locator('input[name="imaging.modalities"][value="XR"]')
    expect(kept).to_be_checked()
    page.select_option("#f-model-purpose", "surgical_planning")
    page.click("#save")
    assert app.cases.get(case_id).value("imaging.modalities") == ["CT", "XR"]
    expect(page.locator("#f-imaging-modalities-msg")).to_contain_text("XR")
    page.uncheck('input[name="imaging.modalities"][value="XR"]')
    page.click("#save")
    expect(page.locator("#flash")).to_have_text("Saved.")
    assert app.cases.get(case_id).value("imaging.modalities") == ["CT"]
    assert app.cases.get(case_id).value("model.purpose") == "surgical_planning"


def test_printer_library_fills_the_print_and_a_new_print_starts_at_full_scale(
        served: tuple[App, str, int], page: Any) -> None:
    from playwright.sync_api import expect

    app, url, case_id = served
    page.goto(f"{url}/cases/{case_id}")
    page.click("text=Add print 2")
    expect(page.locator("#f-prints-2-scale")).to_have_value("100")
    expect(page.locator("#f-prints-2-copies")).to_have_value("1")
    page.fill("#f-prints-2-printer_label", "Prusa MK4S (bench 1)")
    page.locator("#f-prints-2-printer_label").dispatch_event("change")
    expect(page.locator("#f-prints-2-printer_manufacturer")).to_have_value("Prusa Research")
    expect(page.locator("#f-prints-2-printer_model")).to_have_value("MK4S")
    expect(page.locator("#f-prints-2-technology")).to_have_value("material_extrusion")
    page.click("#save")
    case = app.cases.get(case_id)
    assert case.value("prints.2.printer_manufacturer") == "Prusa Research"
    assert case.value("prints.2.scale") == 100 and case.value("prints.2.copies") == 1
    # An untouched "add print 3" (defaults only) added nothing.
    assert case.value("prints.3.scale") is None


def _focus(page: Any, dom_id: str, limit: int = 600) -> None:
    for _ in range(limit):
        if page.evaluate("document.activeElement && document.activeElement.id") == dom_id:
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached #{dom_id}")


def test_keyboard_only_through_a_whole_case(served: tuple[App, str, int], page: Any) -> None:
    from playwright.sync_api import expect

    app, url, case_id = served
    page.goto(f"{url}/")
    _focus(page, "q")
    page.keyboard.type("3DP-2026-002")
    page.keyboard.press("Enter")
    page.wait_for_url("**/?*q=*")
    page.keyboard.press("Tab")
    for _ in range(60):
        if page.evaluate("document.activeElement.textContent") == "3DP-2026-002":
            break
        page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/cases/{case_id}")
    case = app.cases.get(case_id)
    for name in case.missing:
        ref = app.dictionary.resolve(name)
        assert ref is not None
        element = ref.element
        dom = "f-" + name.replace(".", "-")
        _focus(page, dom)
        if element.type == "choice":
            page.keyboard.press("ArrowDown")  # the first allowed value
        elif element.type == "multi_choice":
            page.keyboard.press("Space")
        elif element.type == "duration":
            page.keyboard.type("1")
            page.keyboard.press("Tab")
            page.keyboard.type("15")
        elif element.type in ("integer", "number"):
            page.keyboard.type("1")
        else:
            page.keyboard.type("typed at the keyboard")
    _focus(page, "mark-ready")
    page.keyboard.press("Enter")
    expect(page.locator("#case-status")).to_have_text("ready")
    assert app.cases.get(case_id).status == "ready"


def _serious(page: Any) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [f"{v['id']}: {v['help']} ({len(v['nodes'])} node(s))"
            for v in results.response["violations"]
            if v.get("impact") in ("serious", "critical")]


def test_axe_core_finds_no_serious_violation(served: tuple[App, str, int], page: Any) -> None:
    _, url, case_id = served
    for path in ("/", f"/cases/{case_id}", f"/cases/{case_id}?m=refused", "/report"):
        page.goto(url + path)
        assert _serious(page) == [], path


def test_the_lab_field_filter_works_by_keyboard(served: tuple[App, str, int],
                                                page: Any) -> None:
    app, url, case_id = served
    app.cases.set_values(case_id, {"lab.requesting_service": "Cardiology"}, "tester",
                         reason="test")
    page.goto(f"{url}/")
    _focus(page, "lab_field")
    page.keyboard.press("ArrowDown")  # the first lab field: requesting service
    _focus(page, "lab_value")
    page.keyboard.type("cardiology")
    page.keyboard.press("Enter")
    page.wait_for_url("**/?*lab_value=cardiology*")
    links = page.locator("table.cases a[href^='/cases/']")
    assert links.all_text_contents() == ["3DP-2026-002"]
    assert _serious(page) == []
