"""The intake vocabulary as lookup tables: fact kinds, their fields, types and allowed values."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from engine.model import FactSpec, FieldSpec

RELATIONS: tuple[str, ...] = ("in", "near", "outside")
"""How an entry's site relates to a planned zone."""

DERIVED_KINDS: dict[str, dict[str, str]] = {
    "finding": {"code": "enum", "zone": "site"},
    "state": {"name": "state", "zone": "site"},
}
"""Fact kinds that only rules produce, with their fields."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Vocabulary:
    """Fact kinds from the vocabulary plus the fields the fact builder adds."""

    specs: Mapping[str, FactSpec]
    field_types: Mapping[str, Mapping[str, str]]
    """kind -> field -> type (``list`` for is_a)."""

    def kinds(self) -> list[str]:
        """Every fact kind a rule may match."""
        return [*self.specs, *DERIVED_KINDS]

    def fields_of(self, kind: str) -> Mapping[str, str] | None:
        """Field -> type for ``kind``; None for an unknown kind."""
        return self.field_types.get(kind)

    def allowed_values(self, kind: str, field: str) -> tuple[object, ...] | None:
        """The closed set of values of an enum field (None when open)."""
        if field == "relation" and field not in self.specs.get(kind, _EMPTY).fields:
            return RELATIONS
        spec = self.specs.get(kind)
        if spec is None:
            return None
        fspec = spec.fields.get(field)
        if fspec is None or fspec.type != "enum" or fspec.values is None:
            return None
        return tuple(fspec.values)

    def numeric_fields(self) -> dict[str, frozenset[str]]:
        """Kind -> fields that hold numbers (guarded before they reach the engine)."""
        return {
            kind: frozenset(f for f, t in fields.items() if t in {"integer", "number"})
            for kind, fields in self.field_types.items()
        }

    def has_path(self, path: str) -> bool:
        """True when ``path`` (``client.hsv_history``) is a question of the vocabulary."""
        parent, _, name = path.rpartition(".")
        return any(spec.source == parent and name in spec.fields for spec in self.specs.values())

    def field_spec(self, path: str) -> FieldSpec | None:
        """The question at a case path such as ``client.pregnant``."""
        parent, _, name = path.rpartition(".")
        for spec in self.specs.values():
            if spec.source == parent and name in spec.fields:
                return spec.fields[name]
        return None


_NON_WORD = re.compile(r"[^a-z0-9]+")


def fold_text(text: str) -> str:
    """Text as rules compare it: case, accents and punctuation ignored ("Skin-Pen" = "skin pen")."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().casefold()
    return " ".join(_NON_WORD.sub(" ", folded).split())


_EMPTY = FactSpec(title="", source="", fields={})


def build_vocabulary(specs: Mapping[str, FactSpec]) -> Vocabulary:
    """Derive every kind's field types, including fields the fact builder adds."""
    types: dict[str, dict[str, str]] = {}
    for kind, spec in specs.items():
        fields: dict[str, str] = {name: f.type for name, f in spec.fields.items()}
        if any(f.type == "term" for f in spec.fields.values()):
            fields["is_a"] = "list"
            if any("substance" in f.terms for f in spec.fields.values()):
                fields["intradermal"] = "boolean"
        if spec.site_field is not None:
            fields.setdefault("zone", "site")
            fields.setdefault("relation", "enum")
        if spec.entries:
            fields["entry"] = "integer"
        types[kind] = fields
    for kind, fields in DERIVED_KINDS.items():
        types[kind] = dict(fields)
    return Vocabulary(specs=dict(specs), field_types=types)
