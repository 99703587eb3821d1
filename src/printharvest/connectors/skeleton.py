"""The skeleton ``printharvest connectors new NAME`` writes: a connector, a sample, a test.

The connector reads a small "job sheet" text format (a tag line, then ``key: value`` lines)
so that it works as written; a lab engineer replaces ``detect`` and ``harvest`` with what
their printer's files need. The test runs :func:`printharvest.testing.check_connector_contract`
and checks the sample's values, and passes as written (``pytest connectors/tests``).

Files (below the connectors folder; the drop-in loader imports only top-level ``*.py``)::

    NAME.py                       the connector (module name: NAME with - and . as _)
    tests/NAME.sample.ID.txt      a sample file it reads
    tests/test_NAME.py            its test
"""

from __future__ import annotations

import re
from pathlib import Path

from printharvest.exceptions import PrintharvestError

_NAME = re.compile(r"^[a-z][a-z0-9_.-]{0,63}$")

CONNECTOR_TEMPLATE = '''\
"""__LABEL__: a printharvest drop-in connector (written by `printharvest connectors new`).

It reads "job sheets": text files named ``*.__ID__.txt`` that start with the tag line
``__TAG__`` followed by ``key: value`` lines (see tests/__MODULE__.sample.__ID__.txt).
Replace ``detect`` and ``harvest`` with what your printer's files need; keep the contract:

* ``detect(probe)`` looks only at the probe (``probe.head``, ``probe.tail``, ``probe.size``,
  ``probe.zip_members``, ``probe.name``), returns a score in [0, 1], and never raises;
* ``harvest(probe)`` returns a list of HarvestRecords made with ``self.new_record`` (one per
  job; ``index=`` its position in a log), in the contract's units (seconds, g, mL, mm), with
  ``None`` for anything the file does not say, or raises CorruptFileError with a one-line
  reason (never the file's content).

Test it: ``printharvest connectors test FILE`` and ``pytest`` on tests/test___MODULE__.py.
"""

from __future__ import annotations

from printharvest import CorruptFileError, FileConnector, FileProbe, HarvestRecord
from printharvest.models import Material, Printer

TAG = "__TAG__"
MAX_BYTES = 1 << 20


class __CLASS__(FileConnector):
    """Reads __LABEL__ job sheets."""

    id = "__ID__"
    label = "__LABEL__"
    version = "0.1"
    patterns = ("*.__ID__.txt",)

    def detect(self, probe: FileProbe) -> float:
        """Sure when the tag line opens the file; a weak guess from the name alone."""
        if probe.head.lstrip(b"\\xef\\xbb\\xbf").startswith(TAG.encode()):
            return 0.9
        return 0.3 if probe.matches(self.patterns) else 0.0

    def harvest(self, probe: FileProbe) -> list[HarvestRecord]:
        """One print record from the sheet's ``key: value`` lines."""
        text = probe.read_all(MAX_BYTES).decode("utf-8", errors="replace").lstrip("\\ufeff")
        lines = text.splitlines()
        if not lines or lines[0].strip() != TAG:
            raise CorruptFileError(probe.display_path, "not a __ID__ job sheet (no tag line)")
        values: dict[str, str] = {}
        for line in lines[1:]:
            key, sep, value = line.partition(":")
            if sep and key.strip() and value.strip():
                values[key.strip().lower()] = value.strip()
        warnings: list[str] = []

        def number(key: str) -> float | None:
            if key not in values:
                return None
            try:
                found = float(values[key].replace(",", "."))
            except ValueError:
                warnings.append(f"{key} is not a number; left unknown")
                return None
            if not 0 <= found < 1e9:
                warnings.append(f"{key} is out of range; left unknown")
                return None
            return found

        minutes = number("print_minutes")
        printer = Printer(manufacturer=values.get("printer_manufacturer"),
                          model=values.get("printer_model"),
                          serial=values.get("printer_serial"))
        materials = []
        if "material" in values:
            materials.append(Material(name=values["material"], role="model",
                                      used_g=number("used_g"), used_ml=number("used_ml")))
        outcome = values.get("outcome", "").lower()
        record = self.new_record(
            probe,
            "print",
            printer=printer,
            materials=materials,
            layer_height_mm=number("layer_height_mm"),
            print_time_s=round(minutes * 60) if minutes is not None else None,
            started_at=values.get("started_at"),
            outcome=outcome if outcome in ("success", "failed", "aborted") else None,
        )
        record.warnings.extend(warnings)
        return [record]


CONNECTORS = [__CLASS__]
'''

SAMPLE_TEMPLATE = """\
__TAG__
printer_manufacturer: Formlabs
printer_model: Form 3B
printer_serial: DemoPrinter01
material: Clear V4
used_ml: 42.5
layer_height_mm: 0.1
print_minutes: 390
started_at: 2026-03-02T08:00:00+01:00
outcome: success
"""

TEST_TEMPLATE = '''\
"""Tests of the __ID__ connector (written by `printharvest connectors new`; run with pytest)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from printharvest.connectors.probe import probe_file
from printharvest.testing import check_connector_contract

HERE = Path(__file__).resolve().parent
SAMPLE = HERE / "__MODULE__.sample.__ID__.txt"


def _module() -> ModuleType:
    """Import the connector from the file the host loads (the connectors folder)."""
    spec = importlib.util.spec_from_file_location("__MODULE___under_test",
                                                  HERE.parent / "__MODULE__.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_keeps_the_connector_contract() -> None:
    # Bounded, never-raising detect on the sample and on garbage; valid records with source.
    check_connector_contract(_module().CONNECTORS[0], samples=[SAMPLE], expect_claim=True)


def test_sample_values() -> None:
    connector = _module().CONNECTORS[0]()
    probe = probe_file(SAMPLE)
    assert connector.detect(probe) >= 0.9
    (record,) = connector.harvest(probe)
    assert record.kind == "print"
    assert record.printer is not None and record.printer.model == "Form 3B"
    assert record.materials[0].used_ml == 42.5
    assert record.print_time_s == 390 * 60
    assert record.outcome == "success"
    assert record.part_count is None  # the sheet does not say: unknown, never 0
'''


class SkeletonError(PrintharvestError):
    """The skeleton cannot be written (bad name, files already there)."""

    exit_code = 2


def module_name(name: str) -> str:
    """The Python module name of connector ``name`` (``lab-log`` -> ``lab_log``)."""
    return re.sub(r"[^a-z0-9_]", "_", name)


def write_skeleton(folder: Path, name: str, *, force: bool = False) -> list[Path]:
    """Write the connector, its sample and its test; return the three paths in that order."""
    if not _NAME.match(name):
        raise SkeletonError(f"connector name {name!r} must be 1-64 lower-case letters, digits, "
                            "_ . - (starting with a letter)")
    module = module_name(name)
    words = [w for w in re.split(r"[^a-z0-9]+", name) if w]
    replacements = {
        "__CLASS__": "".join(w.capitalize() for w in words) + "Connector",
        "__LABEL__": " ".join(words).capitalize() + " job sheet",
        "__MODULE__": module,
        "__TAG__": f"# printharvest-{name}/1",
        "__ID__": name,
    }
    targets = [
        (folder / f"{module}.py", CONNECTOR_TEMPLATE),
        (folder / "tests" / f"{module}.sample.{name}.txt", SAMPLE_TEMPLATE),
        (folder / "tests" / f"test_{module}.py", TEST_TEMPLATE),
    ]
    existing = [str(p) for p, _ in targets if p.exists()]
    if existing and not force:
        raise SkeletonError(f"{existing[0]} already exists (use --force to overwrite)")
    for path, template in targets:
        text = template
        for key, value in replacements.items():
            text = text.replace(key, value)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise SkeletonError(f"{path}: cannot write ({exc.strerror})") from exc
    return [p for p, _ in targets]
