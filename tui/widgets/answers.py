"""Answers of the intake form, and the case data built from them (and back).

Pure (no Textual). A missing key is unanswered, never "no"; an explicit ``None`` or an empty list
is answered "none / never" (docs/case-format.md). Follow-up questions that do not apply are left
out of the case.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from tui.widgets.intake_model import UNANSWERED, Section, asked

ListStatus = Literal["unanswered", "none", "listed"]
"""Whether a list question (conditions, medications...) is unanswered, none, or listed."""


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
