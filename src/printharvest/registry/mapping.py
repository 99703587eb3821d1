"""The NRDR JSON mapping (``rules/registry/nrdr_mapping.yaml``): case <-> transaction JSON.

``to_record`` builds the case record the client sends; ``from_record`` reads one back into
field values, which is what the local emulator does to validate what it receives.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from printharvest.cases.model import Case
from printharvest.dictionary.elements import Dictionary
from printharvest.exceptions import ConfigError
from printharvest.registry.layout import RegistryFileInfo, RegistryItem
from printharvest.registry.values import Duration
from printharvest.rules.lab import rules_file
from printharvest.rules.yamlfile import validate_yaml

MAPPING_FILE = "registry/nrdr_mapping.yaml"


class ApiPaths(RegistryItem):
    """Transaction endpoints below the environment's API base."""

    submit_path: str = "/transactions"
    status_path: str = "/transactions/{transaction_id}"
    lookup_path: str = "/transactions?idempotencyKey={key}"
    """Find a transaction by its idempotency key (when a success answer was unreadable)."""


Meaning = Literal["waiting", "accepted", "rejected", "partial", "replaced"]
"""What a registry state means to the outbox: still in progress, accepted, rejected, some
records accepted and others not (read the per-record results), or replaced by a newer
transaction (a newer version of the case is what the registry keeps)."""

DEFAULT_STATES: dict[str, Meaning] = {
    "Loading": "waiting", "Received": "waiting", "ValidationSuccessful": "waiting",
    "Posted": "accepted", "PartiallySuccessful": "partial", "ValidationFail": "rejected",
    "UpdatedWithNewTransaction": "replaced", "Failed": "rejected"}
"""The transaction states sibling NRDR registries publish (used when a mapping file has no
``states``)."""


class TransactionShape(RegistryItem):
    """Where the parts of a transaction and of its status answer are."""

    records_key: str = "records"
    status_key: str = "status"
    results_key: str = "records"
    errors_key: str = "errors"


class FieldMap(RegistryItem):
    """One JSON key (dots nest) for one dictionary element."""

    key: str
    element: str


class GroupMap(RegistryItem):
    """A repeated group as a JSON list of objects."""

    key: str
    group: str
    fields: list[FieldMap]


class NrdrMapping(RegistryItem):
    """The whole mapping file."""

    mapping: RegistryFileInfo
    api: ApiPaths = Field(default_factory=ApiPaths)
    header: dict[str, str | int | bool] = Field(default_factory=dict)
    case_id_key: str = "caseId"
    fields: list[FieldMap]
    groups: list[GroupMap] = Field(default_factory=list)
    transaction: TransactionShape = Field(default_factory=TransactionShape)
    states: dict[str, Meaning] = Field(default_factory=lambda: dict(DEFAULT_STATES))
    record_states: dict[str, Meaning] = Field(default_factory=lambda: dict(DEFAULT_STATES))

    def meaning(self, state: Any, records: bool = False) -> Meaning | None:
        """What a registry state means (None: a state this mapping does not know)."""
        table = self.record_states if records else self.states
        if not isinstance(state, str):
            return None
        found = table.get(state)
        if found is None:  # the registry may vary the case of its words
            found = next((v for k, v in table.items() if k.lower() == state.lower()), None)
        return found

    @classmethod
    def load(cls, rules_dir: Path | None) -> NrdrMapping:
        """The lab's mapping if it has one, else the shipped draft."""
        return validate_yaml(cls, rules_file(rules_dir, MAPPING_FILE))

    def check(self, dictionary: Dictionary) -> None:
        """ConfigError when the mapping names an element the dictionary does not have, or
        leaves out one it has (that element would silently never reach the registry)."""
        elements = {e.id: e for e in dictionary.elements}
        lost = unmapped(self, dictionary)
        if lost:
            raise ConfigError(f"{MAPPING_FILE}: no JSON key for dictionary element(s) "
                              f"{', '.join(lost)}: add them, or nothing of theirs is sent")
        for item in self.fields:
            if item.element not in elements or elements[item.element].group is not None:
                raise ConfigError(f"{MAPPING_FILE}: {item.key}: {item.element} is not a "
                                  "dictionary element outside a group")
        for group in self.groups:
            for item in group.fields:
                found = elements.get(item.element)
                if found is None or found.group != group.group:
                    raise ConfigError(f"{MAPPING_FILE}: {group.key}.{item.key}: {item.element} "
                                      f"is not an element of group {group.group}")


def unmapped(mapping: NrdrMapping, dictionary: Dictionary) -> list[str]:
    """Registry elements the mapping has no key for, in dictionary order (the lab's own
    fields are never sent, so they need none)."""
    mapped = {item.element for item in mapping.fields}
    mapped |= {item.element for group in mapping.groups for item in group.fields}
    return [e.id for e in dictionary.registry_elements if e.id not in mapped]


def json_value(value: Any) -> Any:
    """A typed element value as JSON."""
    if isinstance(value, Duration):
        if value.unknown:
            return {"unknown": True}
        return {"hours": value.hours, "minutes": value.minutes}
    return value


def _put(target: dict[str, Any], dotted: str, value: Any) -> None:
    *heads, last = dotted.split(".")
    for head in heads:
        target = target.setdefault(head, {})
    target[last] = value


def _get(source: dict[str, Any], dotted: str) -> Any:
    current: Any = source
    for head in dotted.split("."):
        if not isinstance(current, dict):
            return None
        current = current.get(head)
    return current


def to_record(case: Case, values: dict[str, Any], mapping: NrdrMapping,
              dictionary: Dictionary) -> dict[str, Any]:
    """The case record of a transaction: generated id plus every mapped element with a value."""
    record: dict[str, Any] = {mapping.case_id_key: case.registry_id}
    for item in mapping.fields:
        if item.element in values:
            _put(record, item.key, json_value(values[item.element]))
    for group in mapping.groups:
        count = max((int(name.split(".")[1]) for name in values
                     if name.startswith(group.group + ".") and name.split(".")[1].isdigit()),
                    default=0)
        entries: list[dict[str, Any]] = []
        for number in range(1, count + 1):
            entry: dict[str, Any] = {}
            for item in group.fields:
                name = f"{group.group}.{number}.{item.element.split('.', 1)[1]}"
                if name in values:
                    _put(entry, item.key, json_value(values[name]))
            entries.append(entry)
        if entries:
            _put(record, group.key, entries)
    return record


def from_record(record: dict[str, Any], mapping: NrdrMapping) -> tuple[str | None, dict[str, Any]]:
    """The case id and the field values held by a case record (JSON values, unconverted)."""
    fields: dict[str, Any] = {}
    for item in mapping.fields:
        value = _get(record, item.key)
        if value is not None:
            fields[item.element] = value
    for group in mapping.groups:
        entries = _get(record, group.key)
        if not isinstance(entries, list):
            continue
        for number, entry in enumerate(entries, 1):
            if not isinstance(entry, dict):
                continue
            for item in group.fields:
                value = _get(entry, item.key)
                if value is not None:
                    fields[f"{group.group}.{number}.{item.element.split('.', 1)[1]}"] = value
    case_id = record.get(mapping.case_id_key)
    return (case_id if isinstance(case_id, str) else None), fields



def unknown_keys(record: dict[str, Any], mapping: NrdrMapping) -> list[str]:
    """Keys of a case record that the mapping does not define (dotted; group entries as
    ``key[].field``): what a strict registry refuses."""
    top = {item.key for item in mapping.fields} | {mapping.case_id_key}
    groups = {group.key: {item.key for item in group.fields} for group in mapping.groups}
    found: list[str] = []
    for dotted, value in _leaves(record, top | set(groups)):
        if dotted in top:
            continue
        if dotted in groups and isinstance(value, list):
            for entry in value:
                if not isinstance(entry, dict):
                    found.append(f"{dotted}[]")
                    continue
                found.extend(f"{dotted}[].{key}" for key, _ in _leaves(entry, groups[dotted])
                             if key not in groups[dotted])
            continue
        found.append(dotted)
    return sorted(set(found))


def _leaves(node: dict[str, Any], known: set[str], prefix: str = "") -> list[tuple[str, Any]]:
    """Dotted paths of a nested object; a known key is a leaf even when its value is an
    object (a duration)."""
    result: list[tuple[str, Any]] = []
    for key, value in node.items():
        dotted = prefix + str(key)
        if isinstance(value, dict) and dotted not in known:
            result.extend(_leaves(value, known, dotted + "."))
        else:
            result.append((dotted, value))
    return result
