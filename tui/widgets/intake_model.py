"""The intake form as data: sections and questions from the vocabulary, answers -> case data.

Pure (no Textual): the form widgets render these questions, and the screen turns the answers
into a case file's data. A missing key is unanswered, never "no"; an explicit ``None`` or an
empty list is answered "none / never" (docs/case-format.md).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from engine.knowledge import Knowledge
from engine.model import FactSpec, FieldSpec

UNANSWERED: Any = type("Unanswered", (), {"__repr__": lambda _self: "UNANSWERED"})()
"""Sentinel: the question has no answer (its key is left out of the case)."""

NONE_WORDS = frozenset({"none", "never", "no", "n/a", "-", "null"})
"""Typed into a nullable number field: answered "none / never" (an explicit null)."""

ListStatus = Literal["unanswered", "none", "listed"]
"""Whether a list question (conditions, medications...) is unanswered, none, or listed."""

_NULL_HINT = re.compile(r"\s*\((?:null|none) if [^)]*\)")


@dataclass(frozen=True, slots=True, kw_only=True)
class Question:
    """One intake question, as the form shows it."""

    kind: str
    """Fact kind it feeds (``client``, ``medication``...)."""
    name: str
    """Field name within the fact kind."""
    path: str
    """Case path of a single question (``client.pregnant``); for an entry field ``kind.name``."""
    type: str
    question: str
    help: str = ""
    unit: str = ""
    values: tuple[Any, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    terms: tuple[str, ...] = ()
    optional: bool = False
    nullable: bool = False
    """A number question that may be answered "none / never" (explicit null)."""
    ask_when: Mapping[str, Any] | None = None
    default_note: str = ""
    """What an unanswered value means when the knowledge gives it a default."""

    @property
    def label(self) -> str:
        """The question text without the file-format hint "(null if ...)"."""
        text = _NULL_HINT.sub("", self.question or self.name.replace("_", " ")).strip()
        if self.unit and self.unit not in text:
            text += f" [{self.unit}]"
        return text

    @property
    def placeholder(self) -> str:
        """Placeholder text for a typed answer."""
        if self.type in {"integer", "number"}:
            unit = self.unit or "number"
            return f"{unit}, or 'none'" if self.nullable else unit
        if self.type == "date":
            return "YYYY-MM-DD"
        if self.type in {"term", "site"}:
            return self.name.replace("_", " ")
        return ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Section:
    """One fact kind of the vocabulary: a block of the form."""

    kind: str
    title: str
    source: str
    """Case path the answers go to (``client``, ``client.medications``, ``plan.anesthetic``)."""
    questions: tuple[Question, ...]
    entries: bool = False
    """A list of entries (rows), e.g. medications."""
    scalar: str | None = None
    """For a list of plain strings, or a single nullable value: the field that holds it."""
    key_field: str | None = None

    @property
    def single_value(self) -> bool:
        """A single value at ``source`` (e.g. ``plan.anesthetic``), not a mapping."""
        return self.scalar is not None and not self.entries

    @property
    def list_id(self) -> str:
        """Widget-safe id fragment of this section."""
        return widget_id(self.source)


def widget_id(path: str) -> str:
    """A Textual-safe id fragment for a case path (``client.sun.tan_days_ago``)."""
    return re.sub(r"[^A-Za-z0-9_-]", "-", path)


def _default_note(spec: FieldSpec) -> str:
    if spec.default_from:
        return f"unanswered: uses {spec.default_from}"
    if spec.has_default:
        value = spec.default
        shown = "yes" if value is True else "no" if value is False else value
        return f"unanswered: treated as {'none' if shown is None else shown}"
    return ""


def _question(kind: str, name: str, spec: FieldSpec, path: str) -> Question:
    nullable = spec.type in {"integer", "number"} and bool(
        _NULL_HINT.search(spec.question or "") or spec.null_means is not None
    )
    return Question(
        kind=kind,
        name=name,
        path=path,
        type=spec.type,
        question=spec.question,
        help=spec.help,
        unit=spec.unit,
        values=tuple(spec.values or ()),
        minimum=spec.min,
        maximum=spec.max,
        terms=tuple(spec.terms),
        optional=spec.optional,
        nullable=nullable,
        ask_when=spec.ask_when,
        default_note=_default_note(spec),
    )


def _section(kind: str, spec: FactSpec) -> Section:
    if spec.entries:
        questions = tuple(
            _question(kind, name, f, f"{kind}.{name}") for name, f in spec.fields.items()
        )
    elif spec.scalar_field is not None:
        f = spec.fields[spec.scalar_field]
        questions = (_question(kind, spec.scalar_field, f, spec.source),)
    else:
        questions = tuple(
            _question(kind, name, f, f"{spec.source}.{name}") for name, f in spec.fields.items()
        )
    return Section(
        kind=kind,
        title=spec.title,
        source=spec.source,
        questions=questions,
        entries=spec.entries,
        scalar=spec.scalar_field,
        key_field=spec.key_field,
    )


def sections(knowledge: Knowledge) -> tuple[Section, ...]:
    """The form's sections, in the vocabulary's order."""
    return tuple(_section(kind, spec) for kind, spec in knowledge.vocabulary.specs.items())


def vocabulary_signature(knowledge: Knowledge) -> str:
    """Changes when the questions change (the form is then rebuilt)."""
    return repr(sections(knowledge))


@dataclass(frozen=True, slots=True, kw_only=True)
class FormSetup:
    """What the form needs from the knowledge (computed once per knowledge, off the UI thread)."""

    sections: tuple[Section, ...]
    suggestions: Mapping[str, tuple[str, ...]]
    """Question path -> completion candidates (terms, synonyms, brands)."""
    zones: tuple[tuple[str, str], ...]
    """(title, zone id) of every treatment zone."""
    signature: str
    """Changes when the questions change."""


def build_setup(knowledge: Knowledge) -> FormSetup:
    """Sections, completion lists and zones for a knowledge."""
    found = sections(knowledge)
    suggestions = {
        q.path: tuple(suggestions_for(knowledge, q))
        for s in found
        for q in s.questions
        if q.type in {"term", "site"}
    }
    zones = tuple((zone.title, zone.id) for zone in knowledge.zones.values())
    return FormSetup(sections=found, suggestions=suggestions, zones=zones, signature=repr(found))


# --- answers -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class ListAnswer:
    """The answer to a list question: its status and the rows (field -> value)."""

    status: ListStatus = "unanswered"
    rows: tuple[tuple[int, Mapping[str, Any]], ...] = ()
    """(row serial, field -> value or UNANSWERED) in display order."""


@dataclass(frozen=True, slots=True, kw_only=True)
class FormAnswers:
    """Everything typed into the form."""

    consultation_date: dt.date
    single: Mapping[str, Any] = field(default_factory=dict)
    """Case path -> value (missing or UNANSWERED: unanswered; None: none / never)."""
    lists: Mapping[str, ListAnswer] = field(default_factory=dict)
    """Section source -> list answer."""
    clearances: tuple[Mapping[str, Any], ...] = ()
    overrides: tuple[Mapping[str, Any], ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Built:
    """Case data built from the answers, and where each entry came from."""

    data: Mapping[str, Any]
    rows: Mapping[str, tuple[int, ...]]
    """Section source -> row serials of the entries in the data, in order (for paths)."""


def parse_answer(question: Question, text: str) -> tuple[Any, str]:  # noqa: PLR0911 - one return per type
    """A typed answer as a value (UNANSWERED when blank) and an error message ('' when fine)."""
    stripped = text.strip()
    if not stripped:
        return UNANSWERED, ""
    if question.type in {"integer", "number"}:
        if stripped.lower() in NONE_WORDS:
            if question.nullable:
                return None, ""
            return UNANSWERED, "a number is needed here"
        try:
            number = float(stripped.replace(",", "."))
        except ValueError:
            return UNANSWERED, f"'{stripped}' is not a number"
        if not math.isfinite(number):
            return UNANSWERED, f"'{stripped}' is not a number"
        if question.type == "integer":
            if not number.is_integer():
                return UNANSWERED, "a whole number is needed"
            return int(number), _range_error(question, number)
        return number, _range_error(question, number)
    if question.type == "date":
        try:
            return dt.date.fromisoformat(stripped).isoformat(), ""
        except ValueError:
            return UNANSWERED, "a date YYYY-MM-DD is needed"
    if question.type in {"term", "site", "text"} and stripped.lower() in {"none", "null"}:
        return (None, "") if question.nullable or question.type == "term" else (stripped, "")
    return stripped, ""


def _range_error(question: Question, number: float) -> str:
    low, high = question.minimum, question.maximum
    if (low is not None and number < low) or (high is not None and number > high):
        unit = f" {question.unit}" if question.unit else ""
        return f"outside the plausible range {_fmt(low)}-{_fmt(high)}{unit}"
    return ""


def _fmt(value: float | None) -> str:
    if value is None:
        return "?"
    return f"{value:g}"


def format_answer(question: Question, value: Any) -> str:  # noqa: ANN401 - any answer type
    """The text a typed question shows for a stored value."""
    if value is UNANSWERED:
        return ""
    if value is None:
        return "none"
    if isinstance(value, float) and value.is_integer() and question.type == "integer":
        return str(int(value))
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def asked(question: Question, siblings: Mapping[str, Any]) -> bool:
    """Whether a follow-up question applies, given the other answers of its entry or section."""
    if not question.ask_when:
        return True
    for name, test in question.ask_when.items():
        value = siblings.get(name, UNANSWERED)
        if value is UNANSWERED:
            return False
        if isinstance(test, Mapping):
            for op, expected in test.items():
                if not _holds(op, value, expected):
                    return False
        elif value != test:
            return False
    return True


def _holds(op: str, value: Any, expected: Any) -> bool:  # noqa: ANN401
    if op == "in":
        return bool(value in expected)
    if op == "not_in":
        return bool(value not in expected)
    if op in {"eq", "is"}:
        return bool(value == expected)
    if op in {"ne", "not"}:
        return bool(value != expected)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    comparisons: dict[str, bool] = {
        "lt": bool(value < expected),
        "le": bool(value <= expected),
        "gt": bool(value > expected),
        "ge": bool(value >= expected),
    }
    return comparisons.get(op, True)


def _set(data: dict[str, Any], path: str, value: Any) -> None:  # noqa: ANN401
    parts = path.split(".")
    node = data
    for part in parts[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = {}
            node[part] = child
        node = child
    node[parts[-1]] = value


def _get(data: Mapping[str, Any], path: str) -> Any:  # noqa: ANN401
    node: Any = data
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return UNANSWERED
        node = node[part]
    return node


def build_case_data(sections_: Sequence[Section], answers: FormAnswers) -> Built:
    """Case data (the case file's shape) from the form answers; hidden follow-ups are left out."""
    data: dict[str, Any] = {"consultation_date": answers.consultation_date.isoformat()}
    rows_out: dict[str, tuple[int, ...]] = {}
    for section in sections_:
        if section.entries:
            answer = answers.lists.get(section.source, ListAnswer())
            if answer.status == "unanswered":
                continue
            if answer.status == "none":
                _set(data, section.source, [])
                continue
            entries, serials = _entries(section, answer)
            _set(data, section.source, entries)
            rows_out[section.source] = tuple(serials)
            continue
        by_name = {q.name: answers.single.get(q.path, UNANSWERED) for q in section.questions}
        for question in section.questions:
            value = by_name[question.name]
            if value is UNANSWERED or not asked(question, by_name):
                continue
            _set(data, question.path, value)
    for key, records in (("clearances", answers.clearances), ("overrides", answers.overrides)):
        if records:
            data[key] = [dict(r) for r in records]
    return Built(data=data, rows=rows_out)


def _entries(section: Section, answer: ListAnswer) -> tuple[list[Any], list[int]]:
    entries: list[Any] = []
    serials: list[int] = []
    name_field = (
        section.key_field
        or section.scalar
        or next((q.name for q in section.questions if q.type == "term"), None)
    )
    for serial, row in answer.rows:
        values = {q.name: row.get(q.name, UNANSWERED) for q in section.questions}
        if name_field is not None and values.get(name_field) in (UNANSWERED, None, ""):
            continue  # a row without its name is not an entry yet
        if section.scalar is not None:
            entries.append(values[section.scalar])
        else:
            entries.append(
                {
                    q.name: values[q.name]
                    for q in section.questions
                    if values[q.name] is not UNANSWERED and asked(q, values)
                },
            )
        serials.append(serial)
    return entries, serials


def answers_from_data(
    sections_: Sequence[Section],
    data: Mapping[str, Any],
    *,
    today: dt.date,
) -> FormAnswers:
    """Form answers from case data (reopening a saved consultation); rows numbered from 0."""
    single: dict[str, Any] = {}
    lists: dict[str, ListAnswer] = {}
    serial = 0
    for section in sections_:
        raw = _get(data, section.source)
        if section.entries:
            if raw is UNANSWERED:
                continue
            items = raw if isinstance(raw, list) else []
            rows: list[tuple[int, Mapping[str, Any]]] = []
            for item in items:
                if section.scalar is not None and not isinstance(item, Mapping):
                    rows.append((serial, {section.scalar: item}))
                elif isinstance(item, Mapping):
                    rows.append((serial, dict(item)))
                serial += 1
            lists[section.source] = ListAnswer(
                status="listed" if rows else "none", rows=tuple(rows)
            )
            continue
        for question in section.questions:
            value = _get(data, question.path)
            if value is not UNANSWERED:
                single[question.path] = value
    date = data.get("consultation_date")
    if isinstance(date, dt.date):
        when = date
    else:
        try:
            when = dt.date.fromisoformat(str(date)) if date else today
        except ValueError:
            when = today
    return FormAnswers(
        consultation_date=when,
        single=single,
        lists=lists,
        clearances=_records(data.get("clearances")),
        overrides=_records(data.get("overrides")),
    )


def _records(raw: Any) -> tuple[Mapping[str, Any], ...]:  # noqa: ANN401
    if not isinstance(raw, list):
        return ()
    out = []
    for item in raw:
        if isinstance(item, Mapping):
            record = dict(item)
            if isinstance(record.get("date"), dt.date):
                record["date"] = record["date"].isoformat()
            out.append(record)
    return tuple(out)


_INDEX = re.compile(r"^(?P<source>[^\[]+)\[(?P<index>\d+)\](?:\.(?P<field>\w+))?$")


def locate_path(
    sections_: Sequence[Section],
    built: Built,
    path: str,
) -> tuple[str, int | None, str | None] | None:
    """Where a case path lives in the form: (section source, row serial, field name).

    ``client.pregnant`` -> ("client", None, "pregnant"); ``client.medications[1].name`` ->
    ("client.medications", <serial of the 2nd built entry>, "name"); ``client.conditions`` ->
    ("client.conditions", None, None). None when the path is not a question of the form.
    """
    match = _INDEX.match(path)
    if match is not None:
        source = match.group("source")
        serials = built.rows.get(source, ())
        index = int(match.group("index"))
        section = next((s for s in sections_ if s.source == source), None)
        if section is None:
            return None
        row = serials[index] if index < len(serials) else None
        name = match.group("field") or section.scalar or section.key_field
        return source, row, name
    for section in sections_:
        if section.source == path:
            return section.source, None, section.scalar if section.single_value else None
        for question in section.questions:
            if not section.entries and question.path == path:
                return section.source, None, question.name
    parent, _, name = path.rpartition(".")
    for section in sections_:
        if section.entries and section.source == parent:
            return section.source, None, name
    return None


def suggestions_for(knowledge: Knowledge, question: Question) -> list[str]:
    """Completion candidates for a term or site question: ids, titles, synonyms and brands."""
    kinds: Iterable[str] = question.terms or (("site",) if question.type == "site" else ())
    wanted = set(kinds)
    seen: dict[str, None] = {}
    folded: set[str] = set()

    def add(text: str) -> None:
        if text and text.lower() not in folded:
            folded.add(text.lower())
            seen[text] = None

    terminology = knowledge.terminology
    for term in terminology.terms.values():
        if term.kind not in wanted:
            continue
        add(term.title or term.id.replace("_", " "))
        add(term.id.replace("_", " "))
        for name in (*term.synonyms, *term.brands):
            add(name)
    for cls in terminology.classes.values():
        if cls.kind in wanted:
            add(cls.title)
            for name in cls.synonyms:
                add(name)
    if question.type == "site":
        for site in knowledge.sites:
            add(site.replace("_", " "))
    return sorted(seen, key=lambda s: (len(s), s.lower()))
