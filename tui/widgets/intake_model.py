"""The intake form as data: sections and questions from the vocabulary, answers -> case data.

Pure (no Textual): the form widgets render these questions, and the screen turns the answers
into a case file's data. A missing key is unanswered, never "no"; an explicit ``None`` or an
empty list is answered "none / never" (docs/case-format.md).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.knowledge import Knowledge
from engine.model import FactSpec, FieldSpec
from tui.completion import Candidate, CompletionIndex, Via, build_indexes, fold

UNANSWERED: Any = type("Unanswered", (), {"__repr__": lambda _self: "UNANSWERED"})()
"""Sentinel: the question has no answer (its key is left out of the case)."""

NONE_WORDS = frozenset({"none", "never", "no", "n/a", "-", "null"})
"""Typed into a nullable number field: answered "none / never" (an explicit null)."""


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


@dataclass(frozen=True, slots=True, kw_only=True)
class FormSetup:
    """What the form needs from the knowledge (computed once per knowledge, off the UI thread)."""

    sections: tuple[Section, ...]
    completers: Mapping[str, CompletionIndex]
    """Question path -> its completion index (terms, synonyms, brands), built once."""
    zones: tuple[tuple[str, str], ...]
    """(title, zone id) of every treatment zone."""
    signature: str
    """Changes when the questions change."""


def build_setup(knowledge: Knowledge) -> FormSetup:
    """Sections, completion lists and zones for a knowledge."""
    found = sections(knowledge)
    named = [q for s in found for q in s.questions if q.type in {"term", "site"}]
    # Questions asking for the same kinds of names share one index.
    kinds = {q.path: (q.type, tuple(sorted(q.terms))) for q in named}
    first: dict[tuple[str, tuple[str, ...]], Question] = {}
    for question in named:
        first.setdefault(kinds[question.path], question)
    by_kind = names_by_kind(knowledge)
    indexes = build_indexes({k: candidates_for(knowledge, q, by_kind) for k, q in first.items()})
    completers = {q.path: indexes[kinds[q.path]] for q in named}
    zones = tuple((zone.title, zone.id) for zone in knowledge.zones.values())
    names = sorted((k, [c.text for c in index.candidates]) for k, index in indexes.items())
    signature = repr((found, zones, names))  # a change rebuilds the form
    return FormSetup(sections=found, completers=completers, zones=zones, signature=signature)


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


NamesByKind = Mapping[str, tuple[tuple[Candidate, ...], tuple[Candidate, ...]]]
"""Term kind -> (canonical names, other names) of its terms and classes."""


def names_by_kind(knowledge: Knowledge) -> NamesByKind:
    """The completion names of every term kind, each built once."""
    canonical: dict[str, list[Candidate]] = {}
    others: dict[str, list[Candidate]] = {}
    terminology = knowledge.terminology
    for term in terminology.terms.values():
        title = term.title or term.id.replace("_", " ")
        via: Via = "site" if term.kind == "site" else "id"
        canonical.setdefault(term.kind, []).extend(
            [Candidate(text=title, via=via), _named(term.id.replace("_", " "), via, title)]
        )
        more = others.setdefault(term.kind, [])
        more.extend(_named(n, "synonym", title) for n in term.synonyms)
        more.extend(_named(n, "brand", title) for n in term.brands)
    for cls in terminology.classes.values():
        canonical.setdefault(cls.kind, []).append(Candidate(text=cls.title, via="class"))
        others.setdefault(cls.kind, []).extend(
            _named(n, "synonym", cls.title) for n in cls.synonyms
        )
    kinds = canonical.keys() | others.keys()
    return {k: (tuple(canonical.get(k, ())), tuple(others.get(k, ()))) for k in kinds}


def candidates_for(
    knowledge: Knowledge, question: Question, names: NamesByKind | None = None
) -> list[Candidate]:
    """Completion candidates of a term or site question: titles, ids, synonyms and brands.

    Canonical names come first (a synonym spelt like another term's title is that term), and a
    synonym or brand carries the canonical title it stands for. ``names``: from
    ``names_by_kind`` when several questions are set up.
    """
    kinds = question.terms or (("site",) if question.type == "site" else ())
    names = names if names is not None else names_by_kind(knowledge)
    empty: tuple[tuple[Candidate, ...], tuple[Candidate, ...]] = ((), ())
    canonical = [c for kind in kinds for c in names.get(kind, empty)[0]]
    if question.type == "site":
        canonical.extend(Candidate(text=s.replace("_", " "), via="site") for s in knowledge.sites)
    return canonical + [c for kind in kinds for c in names.get(kind, empty)[1]]


def _named(text: str, via: Via, target: str) -> Candidate:
    """Another name for ``target`` (no target when it reads the same: "apixaban"/"Apixaban")."""
    return Candidate(text=text, via=via, target="" if fold(target) == fold(text) else target)
