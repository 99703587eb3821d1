"""Anatomy keywords: part and file names (``aorta``, ``L_kidney``, ``mandible_guide``) to hints.

``rules/anatomy.yaml`` holds regular expressions over a name; the name is lower-cased and
``_``, ``-`` and ``.`` become spaces first, so ``\\bleft\\b`` matches ``left_kidney``. Every
matching rule contributes the attributes it sets that earlier rules did not (region, subregion,
structure, laterality, object type, guide type). Hints only ever carry the rule's own words,
never the name they were found in, so no file name reaches a case value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from printharvest.rules.lab import rules_file
from printharvest.rules.yamlfile import validate_yaml

ANATOMY_FILE = "anatomy.yaml"
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


class AnatomyRules(BaseModel):
    """rules/anatomy.yaml."""

    model_config = ConfigDict(extra="forbid")

    keywords: list[AnatomyRule] = Field(default_factory=list)

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
