"""The lab's editable rules: case keys, printer library and models, materials.

Each rules file is YAML under the home's ``rules/`` folder; a file the lab has not copied
falls back to the shipped default. Every rule has a ``name`` so that a prefilled value can say
which rule gave it (``printers.yaml#form-3``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from pydantic import BaseModel, ConfigDict, Field, field_validator

from printharvest.models import HarvestRecord, Material, Printer
from printharvest.rules.pollers import PollerEntry
from printharvest.rules.shipped import shipped_rules
from printharvest.rules.yamlfile import validate_yaml
from printharvest.vocab import Technology

CASE_KEYS_FILE = "case_keys.yaml"
PRINTERS_FILE = "printers.yaml"
MATERIALS_FILE = "materials.yaml"


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _compile(pattern: str) -> str:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"not a valid regular expression: {exc}") from exc
    return pattern


class CaseKeyRule(_Rule):
    """A regex over the path below the inbox; its ``key`` group becomes the case key."""

    name: str
    pattern: str

    @field_validator("pattern")
    @classmethod
    def _has_key_group(cls, value: str) -> str:
        if "key" not in re.compile(_compile(value)).groupindex:
            raise ValueError("needs a named group (?P<key>...)")
        return value


class CaseKeyRules(_Rule):
    """rules/case_keys.yaml."""

    rules: list[CaseKeyRule] = Field(default_factory=list)


class PrinterEntry(_Rule):
    """One printer of the lab's library (mirrors the registry's Manage Printers page)."""

    label: str
    manufacturer: str | None = None
    model: str | None = None
    serial: str | None = None
    technology: Technology | None = None
    hourly_rate: float | None = Field(default=None, ge=0)
    """What an hour of this printer's time costs the lab (machine time), in the ledger's
    currency; None when the lab has not said."""


class PrinterModelRule(_Rule):
    """A regex over a printer model name giving its manufacturer and technology."""

    name: str
    match: str
    manufacturer: str | None = None
    technology: Technology | None = None

    _valid = field_validator("match")(_compile)


class PrinterRules(_Rule):
    """rules/printers.yaml."""

    library: list[PrinterEntry] = Field(default_factory=list)
    models: list[PrinterModelRule] = Field(default_factory=list)
    pollers: list[PollerEntry] = Field(default_factory=list)


class MaterialRule(_Rule):
    """A regex over a material's name, code or type giving its class and optics."""

    name: str
    match: str
    label: str | None = None
    """The material name that may leave the lab (default: the words the rule matched)."""
    material_class: str | None = None
    optical_property: str | None = None
    technology: Technology | None = None
    price_per_kg: float | None = Field(default=None, ge=0)
    """Price of a kilogram (filament, powder), in the ledger's currency."""
    price_per_l: float | None = Field(default=None, ge=0)
    """Price of a litre (resin, photopolymer), in the ledger's currency."""

    _valid = field_validator("match")(_compile)


class MaterialRules(_Rule):
    """rules/materials.yaml."""

    materials: list[MaterialRule] = Field(default_factory=list)


def rules_file(rules_dir: Path | None, name: str) -> Path:
    """The lab's copy of a rules file if it has one, else the shipped default."""
    if rules_dir is not None and (rules_dir / name).is_file():
        return rules_dir / name
    return shipped_rules() / name


@dataclass
class Rules:
    """All loaded rules, with the operations that apply them."""

    case_keys: CaseKeyRules = field(default_factory=CaseKeyRules)
    printers: PrinterRules = field(default_factory=PrinterRules)
    materials: MaterialRules = field(default_factory=MaterialRules)

    @classmethod
    def load(cls, rules_dir: Path | None) -> Rules:
        """Load every rules file (lab copy first, shipped default otherwise)."""
        return cls(
            case_keys=validate_yaml(CaseKeyRules, rules_file(rules_dir, CASE_KEYS_FILE)),
            printers=validate_yaml(PrinterRules, rules_file(rules_dir, PRINTERS_FILE)),
            materials=validate_yaml(MaterialRules, rules_file(rules_dir, MATERIALS_FILE)),
        )

    # -- case keys ----------------------------------------------------------------------

    def case_key(self, relative_parts: tuple[str, ...]) -> tuple[str, str]:
        """The case key for a file at ``relative_parts`` below its input root, and the rule.

        Without a matching rule the key is the top-level folder name, or the file stem for
        a loose file (a zip counts as a folder: its stem).
        """
        relative = "/".join(relative_parts)
        for rule in self.case_keys.rules:
            match = re.search(rule.pattern, relative)
            if match and match.group("key"):
                return match.group("key"), f"{CASE_KEYS_FILE}#{rule.name}"
        top = relative_parts[0] if relative_parts else ""
        if len(relative_parts) == 1 or top.lower().endswith(".zip"):
            return _stem(top), "default: file stem"
        return top, "default: top-level folder"

    def job_key(self, record: HarvestRecord) -> tuple[str, str]:
        """The case key of one job of a job history (a log, a saved vendor page), and the rule.

        Like a poller's key: a ``case_keys.yaml`` rule over ``printer/job``, else
        ``printer-job``. The printer is its library label (call after :meth:`enrich`), else
        its serial or model; the job is its start time, else its position in the file. The
        job's name is never part of it: two printers' ``heart_demo`` jobs stay apart.
        """
        printer = record.printer
        name = next((v.strip() for v in ((printer.label, printer.serial, printer.model,
                                          printer.manufacturer) if printer else ())
                     if v and v.strip()), "unknown printer")
        job = record.started_at or f"job {record.source.index + 1}"
        key, rule = self.case_key((name, job))
        if rule.startswith("default"):
            return f"{name}-{job}", "default: printer and job (a job history holds many jobs)"
        return key, rule

    # -- enrichment ---------------------------------------------------------------------

    def enrich(self, record: HarvestRecord) -> dict[str, str]:
        """Fill printer label/manufacturer/technology and material classes from the rules.

        Mutates ``record`` and returns which rule gave which field.
        """
        notes: dict[str, str] = {}
        tech_from: list[tuple[Technology, str]] = []
        if record.printer is not None:
            tech_from.extend(self._enrich_printer(record.printer, notes))
        for i, material in enumerate(record.materials):
            matched = self.material_rule(material)
            if matched is None:
                continue
            rule = matched[0]
            if material.material_class is None and rule.material_class:
                material.material_class = rule.material_class
                notes[f"materials.{i}.material_class"] = f"{MATERIALS_FILE}#{rule.name}"
            if rule.technology and material.role == "model":
                tech_from.append((rule.technology, f"{MATERIALS_FILE}#{rule.name}"))
        if record.technology is None and tech_from and record.kind == "print":
            record.technology, notes["technology"] = tech_from[0]
        return notes

    def _enrich_printer(
        self, printer: Printer, notes: dict[str, str]
    ) -> list[tuple[Technology, str]]:
        found: list[tuple[Technology, str]] = []
        entry = self.library_entry(printer)
        if entry is not None:
            rule = f"{PRINTERS_FILE}#library:{entry.label}"
            printer.label = entry.label
            notes["printer.label"] = rule
            if printer.manufacturer is None and entry.manufacturer:
                printer.manufacturer = entry.manufacturer
                notes["printer.manufacturer"] = rule
            if printer.model is None and entry.model:
                printer.model = entry.model
                notes["printer.model"] = rule
            if entry.technology:
                found.append((entry.technology, rule))
        matched = self._model_rule(printer.model)
        if matched is not None:
            model_rule = matched[0]
            rule = f"{PRINTERS_FILE}#{model_rule.name}"
            if printer.manufacturer is None and model_rule.manufacturer:
                printer.manufacturer = model_rule.manufacturer
                notes["printer.manufacturer"] = rule
            if model_rule.technology:
                found.append((model_rule.technology, rule))
        return found

    def _model_rule(self, model: str | None) -> tuple[PrinterModelRule, re.Match[str]] | None:
        """The first printer model rule matching ``model``, and its match."""
        if model:
            for model_rule in self.printers.models:
                found = re.search(model_rule.match, model, re.IGNORECASE)
                if found:
                    return model_rule, found
        return None

    def library_entry(self, printer: Printer) -> PrinterEntry | None:
        """The library printer with the same serial, else the only one of the same model."""
        library = self.printers.library
        if printer.serial:
            for entry in library:
                if entry.serial and entry.serial.strip().lower() == printer.serial.strip().lower():
                    return entry
        if printer.model:
            same = [e for e in library
                    if e.model and e.model.strip().lower() == printer.model.strip().lower()]
            if len(same) == 1:
                return same[0]
        return None

    def material_label(self, material: Material) -> tuple[str, str] | None:
        """A material's name in the lab's own words, and the rule that gave it.

        The name comes from the first material rule that matches (its ``label``, else the
        words it matched), never the free text a slicer profile holds: that text may carry a
        spool label, a job name or worse, and must not leave the lab.
        """
        matched = self.material_rule(material)
        if matched is None:
            return None
        rule, found = matched
        name = rule.label or found.group(0).strip()
        return (name, f"{MATERIALS_FILE}#{rule.name}") if name else None

    def printer_model(self, printer: Printer) -> tuple[str, str] | None:
        """A printer's model in the lab's own words, and the rule that gave it.

        From the printer library entry (typed by the lab), else the words a model rule
        matched in the model name: never the whole name a file or printer reports, which may
        carry anything a person typed into the printer or the slicer.
        """
        entry = self.library_entry(printer)
        if entry is not None:
            return (entry.model, f"{PRINTERS_FILE}#library:{entry.label}") if entry.model else None
        matched = self._model_rule(printer.model)
        if matched is None or not matched[1].group(0).strip():
            return None
        return full_model_name(matched[1]), f"{PRINTERS_FILE}#{matched[0].name}"

    def material_rule(self, material: Material) -> tuple[MaterialRule, re.Match[str]] | None:
        """The first material rule matching a material's name, code and type, and its match.

        One rule describes a material: its class, optics, technology and outgoing name.
        """
        subject = " ".join(filter(None, (material.name, material.code, material.type)))
        if subject:
            for rule in self.materials.materials:
                found = re.search(rule.match, subject, re.IGNORECASE)
                if found:
                    return rule, found
        return None


_MODEL_CODE = re.compile(
    r"(\d[\w+.-]*|[a-z]{1,3}\d[\w+.-]*|mc|es|pro|plus|max|mini|ultra|xl|carbon|\+)",
    re.IGNORECASE)
"""A word that continues a model name: a number or model code (``250mc``, ``J850``, ``S5``)
or one of the few words vendors put after one (``Pro``, ``Max``, ``Carbon``)."""


def full_model_name(match: re.Match[str]) -> str:
    """The words a model rule matched, continued by the model codes that follow them.

    A rule recognises a family (``fortus``); the lab reads the model (``Fortus 250mc``).
    Only number-like codes and a few vendor words continue it, at most three: never free
    text a person typed after the model.
    """
    text = match.string
    name = match.group(0).strip()
    rest = text[match.end():]
    if rest[:1].isalnum() or rest[:1] == "+":
        # The match ended inside a word ("Form 3" of "Form 3B+"): a short suffix completes
        # it; anything longer is not a model code, so only what matched is kept.
        tail = re.match(r"[\w+]{1,3}(?=\s|$)", rest)
        if tail is None:
            return name
        name += tail.group(0)
        rest = rest[tail.end():]
    for word in rest.split()[:3]:
        if not _MODEL_CODE.fullmatch(word):
            break
        name += " " + word
    return name


def _stem(name: str) -> str:
    """``liver.stl`` -> ``liver``; double extensions such as ``.gcode.3mf`` go whole."""
    stem = PurePosixPath(name).stem
    for inner in (".gcode", ".tar"):
        if stem.lower().endswith(inner):
            stem = stem[: -len(inner)]
    return stem or name
