"""Hypothesis strategies: random but valid case data built from a knowledge's vocabulary."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import strategies as st

from engine.knowledge import Knowledge
from engine.model import FactSpec, FieldSpec

UNKNOWN_NAMES = ("Frobnicol", "mystery cream", "zz-unknown")


def _names(knowledge: Knowledge, kinds: list[str]) -> list[str]:
    names: list[str] = []
    for term in knowledge.terminology.terms.values():
        if term.kind in kinds:
            names.append(term.id.replace("_", " "))
            names.extend(term.synonyms[:1])
            names.extend(term.brands[:1])
    return sorted(set(names))


def field_value(knowledge: Knowledge, spec: FieldSpec) -> st.SearchStrategy[Any]:
    """A plausible answer for one question (sometimes null, the 'none/never' answer)."""
    if spec.type == "boolean":
        return st.booleans()
    if spec.type in {"integer", "number"}:
        low = int(spec.min if spec.min is not None else 0)
        high = int(spec.max if spec.max is not None else 400)
        high = min(high, low + 400)  # day counts beyond a year change nothing
        if spec.type == "integer":
            value: st.SearchStrategy[Any] = st.integers(low, high)
        else:
            value = st.integers(int(low * 4), int(high * 4)).map(lambda v: v / 4)
        return st.one_of(value, st.none()) if "days" in (spec.unit or "") else value
    if spec.type == "enum":
        return st.sampled_from(list(spec.values or []))
    if spec.type == "term":
        names = _names(knowledge, list(spec.terms)) + list(UNKNOWN_NAMES)
        return st.sampled_from(names)
    if spec.type == "site":
        return st.sampled_from(sorted(knowledge.sites))
    if spec.type == "date":
        return st.dates(dt.date(2020, 1, 1), dt.date(2027, 1, 1))
    return st.sampled_from(["SkinPen", "Dermapen 4", "generic"])


def _object(
    knowledge: Knowledge, fields: dict[str, FieldSpec]
) -> st.SearchStrategy[dict[str, Any]]:
    optional = {name: field_value(knowledge, spec) for name, spec in fields.items()}
    return st.fixed_dictionaries({}, optional=optional)


def _entries(knowledge: Knowledge, spec: FactSpec) -> st.SearchStrategy[list[Any]]:
    if spec.scalar_field is not None:
        return st.lists(field_value(knowledge, spec.fields[spec.scalar_field]), max_size=3)
    required = {}
    optional = {}
    name_field = spec.key_field or next(
        (n for n, f in spec.fields.items() if f.type == "term"), None
    )
    for name, fspec in spec.fields.items():
        target = required if name == name_field else optional
        target[name] = field_value(knowledge, fspec)
    entry = st.fixed_dictionaries(required, optional=optional)
    return st.lists(entry, max_size=3)


@st.composite
def cases(draw: st.DrawFn, knowledge: Knowledge) -> dict[str, Any]:
    """A random valid case: any subset of questions answered."""
    data: dict[str, Any] = {"consultation_date": "2026-11-28", "client": {}, "plan": {}}
    for spec in knowledge.vocabulary.specs.values():
        root, _, rest = spec.source.partition(".")
        target = data[root]
        if spec.key_field == "zone":
            zones = draw(
                st.lists(
                    st.sampled_from(sorted(knowledge.zones)), min_size=1, max_size=4, unique=True
                )
            )
            areas = []
            for zone in zones:
                area = draw(
                    _object(knowledge, {k: v for k, v in spec.fields.items() if k != "zone"})
                )
                areas.append({"zone": zone, **area})
            target[rest] = areas
            continue
        if spec.entries:
            if draw(st.booleans()) or draw(st.booleans()):
                target[rest] = draw(_entries(knowledge, spec))
            continue
        if spec.scalar_field is not None:
            if draw(st.booleans()):
                target[rest] = draw(
                    st.one_of(st.none(), field_value(knowledge, spec.fields[spec.scalar_field]))
                )
            continue
        values = draw(_object(knowledge, spec.fields))
        if rest:
            if draw(st.booleans()):
                target[rest] = values
        else:
            target.update(values)
    return data
