"""Case files: load, validate against the knowledge's vocabulary, normalise answers."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.errors import CaseError, Problem, locate
from engine.knowledge import Knowledge
from engine.loader import Document, PositionIndex, load_file, parse_text
from engine.location import Location, PathPart, format_path
from engine.model import FieldSpec

TOP_KEYS = ("consultation_date", "practitioner", "client", "plan", "clearances", "overrides")
_MISSING = object()


@dataclass(frozen=True, slots=True, kw_only=True)
class Clearance:
    """A prescriber's or physician's documented clearance of a finding."""

    code: str
    by: str
    date: dt.date | None = None
    note: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Override:
    """A practitioner's documented decision to proceed despite a finding."""

    code: str
    by: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Case:
    """A validated case: normalised answers (missing keys stay missing) and bookkeeping."""

    file: str
    consultation_date: dt.date
    practitioner: Mapping[str, str]
    answers: Mapping[str, Any]
    """``{"client": {...}, "plan": {...}}`` with values coerced to their field types."""
    clearances: tuple[Clearance, ...] = ()
    overrides: tuple[Override, ...] = ()
    raw: Any = None
    """The case exactly as entered (kept with stored consultations)."""
    index: PositionIndex = field(default_factory=dict)


class _CaseChecker:
    def __init__(self, knowledge: Knowledge, doc: Document, prefix: tuple[PathPart, ...]) -> None:
        self.knowledge = knowledge
        self.doc = doc
        self.prefix = prefix
        self.problems: list[Problem] = []

    def problem(
        self,
        code: str,
        message: str,
        path: tuple[PathPart, ...],
        hint: str = "",
        *,
        key: bool = False,
    ) -> None:
        full = (*self.prefix, *path)
        index = self.doc.key_index if key and full in self.doc.key_index else self.doc.index
        self.problems.append(
            Problem(
                code=code,
                message=message,
                location=locate(index, self.doc.file, full),
                hint=hint,
            ),
        )

    # --- value coercion -------------------------------------------------------------------
    def value(self, spec: FieldSpec, value: Any, path: tuple[PathPart, ...]) -> Any:  # noqa: ANN401, C901, PLR0911
        name = format_path(path)
        if value is None:
            return spec.null_means
        if isinstance(value, str) and value in spec.aliases:
            value = spec.aliases[value]
        kind = spec.type
        if kind == "boolean":
            if isinstance(value, bool):
                return value
            self.problem("case.bad_type", f"{name}: expected true or false, got {value!r}", path)
            return _MISSING
        if kind in {"integer", "number"}:
            number = _number(value)
            if number is None:
                self.problem("case.bad_type", f"{name}: expected a number, got {value!r}", path)
                return _MISSING
            if kind == "integer":
                if not float(number).is_integer():
                    self.problem(
                        "case.bad_type", f"{name}: expected a whole number, got {value!r}", path
                    )
                    return _MISSING
                number = int(number)
            if (spec.min is not None and number < spec.min) or (
                spec.max is not None and number > spec.max
            ):
                unit = f" {spec.unit}" if spec.unit else ""
                self.problem(
                    "case.implausible",
                    f"{name}: {value}{unit} is outside the plausible range "
                    f"{_fmt(spec.min)}-{_fmt(spec.max)}{unit}",
                    path,
                )
                return _MISSING
            return number
        if kind == "enum":
            allowed = spec.values or []
            if value not in allowed:
                shown = ", ".join(str(v) for v in allowed)
                self.problem(
                    "case.bad_value",
                    f"{name}: '{value}' is not allowed",
                    path,
                    hint=f"expected one of: {shown}",
                )
                return _MISSING
            return value
        if kind in {"term", "site", "text"}:
            if isinstance(value, bool) or not isinstance(value, (str, int, float)):
                self.problem("case.bad_type", f"{name}: expected text, got {value!r}", path)
                return _MISSING
            return str(value)
        if kind == "date":
            return self.date(value, path)
        return value

    def date(self, value: Any, path: tuple[PathPart, ...]) -> Any:  # noqa: ANN401
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                pass
        self.problem(
            "case.bad_type", f"{format_path(path)}: expected a date YYYY-MM-DD, got {value!r}", path
        )
        return _MISSING

    # --- structure ------------------------------------------------------------------------
    def mapping(
        self,
        value: Any,  # noqa: ANN401
        path: tuple[PathPart, ...],
        allowed: list[str],
    ) -> dict[str, Any] | None:
        if not isinstance(value, dict):
            self.problem(
                "case.bad_type", f"{format_path(path) or 'case'}: expected a mapping", path
            )
            return None
        for key in value:
            if key not in allowed:
                hint = f"expected one of: {', '.join(allowed)}"
                close = [a for a in allowed if _similar(a, str(key))]
                if close:
                    hint = f"did you mean '{close[0]}'? ({hint})"
                self.problem(
                    "case.unknown_key",
                    f"unknown key '{key}' in {format_path(path) or 'case'}",
                    (*path, key),
                    hint=hint,
                    key=True,
                )
        return value

    def check(self, data: Any) -> dict[str, Any]:  # noqa: ANN401
        top = self.mapping(data, (), list(TOP_KEYS))
        if top is None:
            return {}
        out: dict[str, Any] = {}
        tree = _tree(self.knowledge)
        for root in ("client", "plan"):
            if root in top and top[root] is None:
                self.problem("case.bad_type", f"{root}: expected a mapping, got null", (root,))
                continue
            if root in top:
                value = self.node(tree, root, top[root], (root,))
                if value is not _MISSING:
                    out[root] = value
        return out

    def node(
        self,
        tree: Mapping[str, Any],
        dotted: str,
        value: Any,  # noqa: ANN401
        path: tuple[PathPart, ...],
    ) -> Any:  # noqa: ANN401 - the answer, whatever its type
        spec_fields: dict[str, FieldSpec] = tree["fields"].get(dotted, {})
        children: list[str] = tree["children"].get(dotted, [])
        entries = tree["entries"].get(dotted)
        if entries is not None:
            return self.entries(entries, dotted, value, path)
        if dotted in tree["scalars"]:
            field_name, fspec = tree["scalars"][dotted]
            del field_name
            if value is None:
                return None
            return self.value(fspec, value, path)
        if value is None:
            return None
        allowed = [*spec_fields, *[c.rsplit(".", 1)[1] for c in children]]
        mapping = self.mapping(value, path, allowed)
        if mapping is None:
            return _MISSING
        out: dict[str, Any] = {}
        for key, item in mapping.items():
            child = f"{dotted}.{key}"
            if key in spec_fields:
                coerced = self.value(spec_fields[key], item, (*path, key))
            elif child in children:
                coerced = self.node(tree, child, item, (*path, key))
            else:
                continue
            if coerced is not _MISSING:
                out[key] = coerced
        return out

    def entries(self, spec: Any, dotted: str, value: Any, path: tuple[PathPart, ...]) -> Any:  # noqa: ANN401
        if value is None:
            return []
        if not isinstance(value, list):
            self.problem("case.bad_type", f"{dotted}: expected a list", path)
            return _MISSING
        out: list[dict[str, Any]] = []
        keys: dict[Any, int] = {}
        for i, item in enumerate(value):
            entry_path = (*path, i)
            if spec.scalar_field is not None and not isinstance(item, dict):
                item = {spec.scalar_field: item}  # noqa: PLW2901
            mapping = self.mapping(item, entry_path, list(spec.fields))
            if mapping is None:
                continue
            entry: dict[str, Any] = {}
            for key, raw in mapping.items():
                if key in spec.fields:
                    coerced = self.value(spec.fields[key], raw, (*entry_path, key))
                    if coerced is not _MISSING:
                        entry[key] = coerced
            name_field = spec.key_field or spec.scalar_field
            if name_field is None:
                name_field = next((f for f, s in spec.fields.items() if s.type == "term"), None)
            if name_field is not None and entry.get(name_field) in (None, ""):
                self.problem(
                    "case.missing_key", f"{dotted}[{i}]: '{name_field}' is required", entry_path
                )
                continue
            if spec.key_field is not None:
                key_value = self.key(spec.key_field, entry, entry_path)
                if key_value is None:
                    continue
                if key_value in keys:
                    self.problem(
                        "case.duplicate_entry",
                        f"{dotted}: '{key_value}' is listed twice "
                        f"(entries {keys[key_value]} and {i})",
                        entry_path,
                    )
                    continue
                keys[key_value] = i
                entry[spec.key_field] = key_value
            out.append(entry)
        return out

    def key(self, field_name: str, entry: dict[str, Any], path: tuple[PathPart, ...]) -> str | None:
        text = str(entry[field_name])
        zone = resolve_site(self.knowledge, text)
        if zone is None or zone not in self.knowledge.zones:
            zones = ", ".join(self.knowledge.zones)
            self.problem(
                "case.unknown_zone",
                f"'{text}' is not a treatment zone",
                (*path, field_name),
                hint=f"plan each zone separately; zones: {zones}",
            )
            return None
        return zone


def resolve_site(knowledge: Knowledge, text: str) -> str | None:
    """A site or zone id for ``text`` (ids, titles, synonyms); None when unrecognised."""
    if text in knowledge.sites:
        return text
    match = knowledge.terminology.lookup(text, ("site",))
    if match is not None and match.term in knowledge.sites:
        return match.term
    folded = text.strip().lower().replace(" ", "_").replace("-", "_")
    return folded if folded in knowledge.sites else None


def _tree(knowledge: Knowledge) -> dict[str, Any]:
    fields: dict[str, dict[str, FieldSpec]] = {}
    children: dict[str, list[str]] = {}
    entries: dict[str, Any] = {}
    scalars: dict[str, tuple[str, FieldSpec]] = {}
    for spec in knowledge.vocabulary.specs.values():
        if spec.entries:
            entries[spec.source] = spec
        elif spec.scalar_field is not None:
            scalars[spec.source] = (spec.scalar_field, spec.fields[spec.scalar_field])
        else:
            fields.setdefault(spec.source, {}).update(spec.fields)
        parent, _, _ = spec.source.rpartition(".")
        while parent:
            children.setdefault(parent, [])
            child = spec.source if spec.source.startswith(parent + ".") else parent
            first = ".".join(child.split(".")[: parent.count(".") + 2])
            if first not in children[parent]:
                children[parent].append(first)
            parent, _, _ = parent.rpartition(".")
    return {"fields": fields, "children": children, "entries": entries, "scalars": scalars}


def _number(value: Any) -> float | int | None:  # noqa: ANN401
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        try:
            return value if math.isfinite(value) else None
        except OverflowError:  # an integer too large for a float is not a plausible answer
            return None
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


def _fmt(value: float | None) -> str:
    if value is None:
        return "?"
    return str(int(value)) if float(value).is_integer() else str(value)


def _similar(a: str, b: str) -> bool:
    a, b = a.lower(), b.lower()
    if a in b or b in a:
        return True
    common = sum(1 for x, y in zip(a, b, strict=False) if x == y)
    return common >= max(3, min(len(a), len(b)) - 2)


def case_from_document(
    knowledge: Knowledge,
    doc: Document,
    data: Any,  # noqa: ANN401
    *,
    prefix: tuple[PathPart, ...] = (),
    today: dt.date | None = None,
) -> Case:
    """Validate case data (at ``prefix`` inside ``doc``); raise CaseError with every problem."""
    checker = _CaseChecker(knowledge, doc, prefix)
    answers = checker.check(data)
    top = data if isinstance(data, dict) else {}
    date = today or dt.date.today()  # noqa: DTZ011 - a consultation date is a local calendar day
    if "consultation_date" in top:
        parsed = checker.date(top["consultation_date"], ("consultation_date",))
        if isinstance(parsed, dt.date):
            date = parsed
    practitioner: dict[str, str] = {}
    if "practitioner" in top and top["practitioner"] is not None:
        raw = checker.mapping(
            top["practitioner"], ("practitioner",), ["role", "jurisdiction", "name"]
        )
        practitioner = {str(k): str(v) for k, v in (raw or {}).items()}
    clearances = tuple(
        Clearance(code=e["code"], by=e["by"], date=e.get("date"), note=e.get("note", ""))
        for e in _records(
            checker, top, "clearances", ["code", "by", "date", "note"], ["code", "by"]
        )
    )
    overrides = tuple(
        Override(code=e["code"], by=e["by"], reason=e["reason"])
        for e in _records(
            checker, top, "overrides", ["code", "by", "reason"], ["code", "by", "reason"]
        )
    )
    if checker.problems:
        raise CaseError(checker.problems)
    return Case(
        file=doc.file,
        consultation_date=date,
        practitioner=practitioner,
        answers=answers,
        clearances=clearances,
        overrides=overrides,
        raw=data,
        index=doc.index,
    )


def _records(
    checker: _CaseChecker,
    top: Mapping[str, Any],
    key: str,
    allowed: list[str],
    required: list[str],
) -> list[dict[str, Any]]:
    items = top.get(key)
    if items is None:
        return []
    if not isinstance(items, list):
        checker.problem("case.bad_type", f"{key}: expected a list", (key,))
        return []
    out: list[dict[str, Any]] = []
    for i, item in enumerate(items):
        mapping = checker.mapping(item, (key, i), allowed)
        if mapping is None:
            continue
        ok = True
        for name in required:
            if not mapping.get(name):
                checker.problem("case.missing_key", f"{key}[{i}]: '{name}' is required", (key, i))
                ok = False
        for name in ("code", "by", "reason", "note"):
            if name in mapping and not isinstance(mapping[name], (str, int, float)):
                checker.problem(
                    "case.bad_type", f"{key}[{i}].{name}: expected text", (key, i, name)
                )
                ok = False
        code = mapping.get("code")
        if ok and code and code not in checker.knowledge.catalogue:
            checker.problem(
                "case.unknown_code", f"{key}[{i}]: unknown finding code '{code}'", (key, i, "code")
            )
            ok = False
        entry = {k: (str(v) if k != "date" else v) for k, v in mapping.items()}
        if "date" in mapping:
            parsed = checker.date(mapping["date"], (key, i, "date"))
            ok = ok and isinstance(parsed, dt.date)
            entry["date"] = parsed
        if ok:
            out.append(entry)
    return out


def load_case(
    knowledge: Knowledge,
    path: Path | str,
    *,
    today: dt.date | None = None,
) -> Case:
    """Load and validate a case file (YAML or JSON)."""
    doc, problems = load_file(Path(path), str(path))
    if doc is None or problems:
        raise CaseError(problems)
    return case_from_document(knowledge, doc, doc.data, today=today)


def case_from_data(
    knowledge: Knowledge,
    data: Any,  # noqa: ANN401
    *,
    file: str = "<case>",
    today: dt.date | None = None,
) -> Case:
    """Validate case data that did not come from a file (API, TUI, what-if)."""
    doc = Document(file=file, data=data, index={(): Location(file=file)}, key_index={})
    return case_from_document(knowledge, doc, data, today=today)


def parse_case_text(
    knowledge: Knowledge,
    text: str,
    file: str,
    *,
    today: dt.date | None = None,
) -> Case:
    """Validate case text (YAML or JSON)."""
    doc, problems = parse_text(text, file)
    if doc is None or problems:
        raise CaseError(problems)
    return case_from_document(knowledge, doc, doc.data, today=today)
