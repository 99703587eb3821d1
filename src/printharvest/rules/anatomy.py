"""Anatomy keywords: part and file names (``aorta``, ``L_kidney``, ``mandible_guide``) to hints.

``rules/anatomy.yaml`` holds regular expressions over a name; the name is lower-cased and
``_``, ``-`` and ``.`` become spaces first, so ``\\bleft\\b`` matches ``left_kidney``. Every
matching rule contributes the attributes it sets that earlier rules did not (region, subregion,
structure, laterality, object type, guide type). Hints only ever carry the rule's own words,
never the name they were found in, so no file name reaches a case value.

The same file maps standard codes (a segment's SNOMED CT type, region and their modifiers,
``codes:``) to the same attributes, through the keyword rule each code entry is ``like``, and
software names (``software:``) to the lab's words for the Digital Model's software element.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from printharvest.rules.lab import rules_file
from printharvest.rules.yamlfile import validate_yaml

ANATOMY_FILE = "anatomy.yaml"
CODE_ORDER = ("type", "type_modifier", "region", "region_modifier")
"""Which codes of a segment are looked up, in order: what it is, then where it is."""
_VERSION = re.compile(r"\d+(?:\.\d+){0,3}")
HINT_KEYS = ("region", "subregion", "structure", "laterality", "object_type", "guide_type")


class AnatomyRule(BaseModel):
    """One keyword rule."""

    model_config = ConfigDict(extra="forbid")

    name: str
    match: str
    region: str | None = None
    subregion: str | None = None
    structure: str | None = None
    laterality: str | None = None
    object_type: Literal["anatomic_model", "anatomic_guide"] | None = None
    guide_type: str | None = None

    @field_validator("match")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a valid regular expression: {exc}") from exc
        return value


class CodeRule(BaseModel):
    """Standard codes (``SCT:64033007``) that mean what a keyword rule means.

    ``like`` names the keyword rule whose attributes the codes give, so that a change of the
    registry's words in the keyword rules carries over to the codes; attributes set here win.
    """

    model_config = ConfigDict(extra="forbid")

    name: str
    codes: list[str]
    like: str | None = None
    region: str | None = None
    subregion: str | None = None
    structure: str | None = None
    laterality: str | None = None


class SoftwareRule(BaseModel):
    """Software names a file gives (``match``, a regular expression) to the lab's words."""

    model_config = ConfigDict(extra="forbid")

    name: str
    match: str
    label: str

    @field_validator("match")
    @classmethod
    def _compiles(cls, value: str) -> str:
        return AnatomyRule._compiles(value)


class AnatomyRules(BaseModel):
    """rules/anatomy.yaml: name keywords, the standard-code map, and software names."""

    model_config = ConfigDict(extra="forbid")

    keywords: list[AnatomyRule] = Field(default_factory=list)
    codes: list[CodeRule] = Field(default_factory=list)
    software: list[SoftwareRule] = Field(default_factory=list)

    @model_validator(mode="after")
    def _known_likes(self) -> AnatomyRules:
        names = {rule.name for rule in self.keywords}
        for rule in self.codes:
            if rule.like is not None and rule.like not in names:
                raise ValueError(f"codes rule {rule.name}: no keyword rule named {rule.like}")
        return self

    def code_hints(self, terminology: Mapping[str, str]) -> AnatomyHints:
        """What the code map says about one segment's codes: the type and its modifier
        first (the structure), then the anatomic region and its modifier."""
        by_code = {code.upper(): rule for rule in self.codes for code in rule.codes}
        keywords = {rule.name: rule for rule in self.keywords}
        found = AnatomyHints()
        for key in CODE_ORDER:
            code = terminology.get(key)
            rule = by_code.get(code.upper()) if code else None
            if rule is None:
                continue
            base = keywords.get(rule.like) if rule.like else None
            for attribute in ("region", "subregion", "structure", "laterality"):
                value = getattr(rule, attribute) or (getattr(base, attribute) if base else None)
                if value is not None and attribute not in found.values:
                    found.values[attribute] = value
                    found.rules[attribute] = f"{ANATOMY_FILE}#{rule.name}"
        return found

    def software_label(self, name: str, version: str | None) -> tuple[str, str] | None:
        """The lab's words for a software name (with a plain version number), and the rule."""
        for rule in self.software:
            if re.search(rule.match, name, re.IGNORECASE):
                plain = _VERSION.fullmatch(version or "")
                label = f"{rule.label} {plain.group(0)}" if plain else rule.label
                return label, f"{ANATOMY_FILE}#{rule.name}"
        return None

    @classmethod
    def load(cls, rules_dir: Path | None) -> AnatomyRules:
        """The lab's anatomy rules, else the shipped default."""
        return validate_yaml(cls, rules_file(rules_dir, ANATOMY_FILE))

    def hints(self, name: str) -> AnatomyHints:
        """What the keyword rules say about one part or file name."""
        text = normalise(name)
        found = AnatomyHints()
        for rule in self.keywords:
            if not re.search(rule.match, text, re.IGNORECASE):
                continue
            for key in HINT_KEYS:
                value = getattr(rule, key)
                if value is not None and key not in found.values:
                    found.values[key] = value
                    found.rules[key] = f"{ANATOMY_FILE}#{rule.name}"
        return found


@dataclass
class AnatomyHints:
    """Hint values by attribute, and which rule gave each."""

    values: dict[str, str] = field(default_factory=dict)
    rules: dict[str, str] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.values)


def normalise(name: str) -> str:
    """Lower case, file extensions dropped, ``_ - .`` as spaces (so ``\\b`` splits words)."""
    text = name.lower()
    for extension in (".gcode.3mf", ".stl", ".obj", ".ply", ".3mf", ".gcode", ".glb", ".gltf",
                      ".off", ".amf"):
        if text.endswith(extension):
            text = text[: -len(extension)]
            break
    return " ".join(re.sub(r"[_\-.]+", " ", text).split())
