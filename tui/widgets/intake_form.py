"""The intake form, generated from the knowledge's vocabulary (one section per fact kind).

Attributes down, messages up: the screen hands in the sections, completion lists and notes;
the form posts ``IntakeChanged`` with the answers whenever one changes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widget import Widget
from textual.widgets import Button, Input

from tui.messages import IntakeChanged
from tui.widgets.answers import Built, FormAnswers, ListAnswer, locate_path
from tui.widgets.choice import Choice
from tui.widgets.entries import EntryList, EntryRow
from tui.widgets.fields import AnswerInput, AnswerSelect, QuestionField, make_control
from tui.widgets.intake_model import UNANSWERED, FormSetup, Question, asked, widget_id
from tui.widgets.text_block import TextBlock

DATE_QUESTION = Question(
    kind="consultation",
    name="consultation_date",
    path="consultation_date",
    type="date",
    question="Consultation date",
    help="Day windows (washouts, waits) and 'wait until' dates count from this date.",
)
"""The consultation date: not a vocabulary question, but every day window counts from it."""

NoteLevel = str
"""``error``, ``warning`` or ``info``."""


@dataclass(frozen=True, slots=True, kw_only=True)
class FormIndex:
    """The form's widgets by kind, from one walk of the DOM."""

    fields: list[QuestionField]
    lists: list[EntryList]
    notes: list[TextBlock]
    by_id: dict[str, Widget]


class IntakeForm(VerticalScroll):
    """Every question of the vocabulary, grouped by fact kind; posts IntakeChanged."""

    def __init__(self, setup: FormSetup, answers: FormAnswers, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id, classes="intake-form")
        self.setup = setup
        self.initial = answers
        self._serial = 1 + max((s for a in answers.lists.values() for s, _ in a.rows), default=-1)
        self.clearances = answers.clearances
        self.overrides = answers.overrides
        self.built: Built = Built(data={}, rows={})
        self._index: FormIndex | None = None
        self._flagged: set[Widget] = set()
        self._posted: FormAnswers | None = None
        """The case data last built from the answers (the screen sets it; paths resolve here)."""

    def on_mount(self) -> None:
        """Index afresh once every question is mounted."""
        self._index = None

    async def recompose(self) -> None:
        """Rebuild every question (new answers or new knowledge)."""
        self._index = None
        self._flagged = set()
        await super().recompose()
        self._index = None

    def compose(self) -> ComposeResult:
        """One section per fact kind, then the consultation date."""
        for section in self.setup.sections:
            with Vertical(classes="form-section", id=f"section-{section.kind}") as box:
                box.border_title = section.title
                if section.entries:
                    answer = self.initial.lists.get(section.source, ListAnswer())
                    yield EntryList(self.setup, section, answer)
                    continue
                values = {
                    q.name: self.initial.single.get(q.path, UNANSWERED) for q in section.questions
                }
                for question in section.questions:
                    control = make_control(
                        self.setup,
                        section,
                        question,
                        row=None,
                        value=values[question.name],
                    )
                    field = QuestionField(control, followup=bool(question.ask_when))
                    field.display = asked(question, values)
                    yield field
        date = AnswerInput(
            DATE_QUESTION,
            source="consultation",
            value=self.initial.consultation_date.isoformat(),
            id="q-consultation_date",
        )
        with Vertical(classes="form-section", id="section-consultation") as box:
            box.border_title = "Consultation"
            yield QuestionField(date)

    # --- the form's widgets, found in one walk (CSS queries per keystroke are too slow) --
    def index(self) -> FormIndex:
        """The fields, lists, notes and controls (by id), cached until rows change."""
        if self._index is None:
            fields: list[QuestionField] = []
            lists: list[EntryList] = []
            notes: list[TextBlock] = []
            by_id: dict[str, Widget] = {}
            for node in self.walk_children(with_self=False):
                if isinstance(node, QuestionField):
                    fields.append(node)
                elif isinstance(node, EntryList):
                    lists.append(node)
                elif isinstance(node, TextBlock) and node.has_class("note"):
                    notes.append(node)
                if isinstance(node, Widget) and node.id:
                    by_id[node.id] = node
            self._index = FormIndex(fields=fields, lists=lists, notes=notes, by_id=by_id)
        return self._index

    def invalidate(self) -> None:
        """Rows were added or removed, or the form recomposed: walk again next time."""
        self._index = None

    # --- reading the answers ------------------------------------------------------------
    def answers(self) -> FormAnswers:
        """Everything typed, with follow-ups shown or hidden to match."""
        index = self.index()
        single: dict[str, Any] = {}
        for field in index.fields:
            control = field.control
            if control.row is None and control.source != "consultation":
                single[control.question.path] = control.answer
        lists = {lst.section.source: lst.answer() for lst in index.lists}
        self._sync_followups(single, lists)
        date = index.by_id["q-consultation_date"]
        assert isinstance(date, AnswerInput)  # noqa: S101 - composed above
        date = date.answer
        when = (
            dt.date.fromisoformat(date) if isinstance(date, str) else self.initial.consultation_date
        )
        return FormAnswers(
            consultation_date=when,
            single=single,
            lists=lists,
            clearances=self.clearances,
            overrides=self.overrides,
        )

    def _sync_followups(self, single: Mapping[str, Any], lists: Mapping[str, ListAnswer]) -> None:
        for field in self.index().fields:
            question = field.control.question
            if not question.ask_when:
                continue
            if field.control.row is None:
                section = next(s for s in self.setup.sections if s.source == field.control.source)
                siblings = {q.name: single.get(q.path, UNANSWERED) for q in section.questions}
            else:
                rows = dict(lists.get(field.control.source, ListAnswer()).rows)
                siblings = dict(rows.get(field.control.row, {}))
            shown = asked(question, siblings)
            if field.display != shown:
                field.display = shown

    def _changed(self) -> None:
        answers = self.answers()
        if answers == self._posted:
            return  # e.g. an Input announcing its initial value: nothing to re-assess
        self._posted = answers
        self.post_message(IntakeChanged(answers))

    @on(Input.Changed)
    @on(Choice.Changed)
    def _on_answer(self, event: Input.Changed | Choice.Changed) -> None:
        event.stop()
        if isinstance(event, Choice.Changed) and event.choice.has_class("list-status"):
            lst = next(a for a in event.choice.ancestors if isinstance(a, EntryList))
            lst.set_class(event.value == "none", "-none")
        self._changed()

    @on(Button.Pressed, ".add-row")
    async def _on_add(self, event: Button.Pressed) -> None:
        event.stop()
        lst = next(a for a in event.button.ancestors if isinstance(a, EntryList))
        await self.add_row(lst.section.source)

    @on(Button.Pressed, ".remove-row")
    async def _on_remove(self, event: Button.Pressed) -> None:
        event.stop()
        row = next(a for a in event.button.ancestors if isinstance(a, EntryRow))
        await row.remove()
        self.invalidate()
        self._changed()

    async def add_row(self, source: str, values: Mapping[str, Any] | None = None) -> EntryRow:
        """Add an entry to a list question, mark the list as listed, and focus its first field."""
        lst = self.query_one(f"#list-{widget_id(source)}", EntryList)
        row = EntryRow(self.setup, lst.section, self._serial, values or {})
        self._serial += 1
        await lst.query_one(".rows", Vertical).mount(row)
        self.invalidate()
        if lst.status_select.value != "listed":
            lst.status_select.choose("listed")
        first = next(row.controls(), None)
        if first is not None:
            first.focus()
            first.scroll_visible()
        self._changed()
        return row

    async def remove_row_of(self, widget: Widget) -> bool:
        """Remove the entry row that holds ``widget`` (False when it is not in a row)."""
        row = next((a for a in widget.ancestors_with_self if isinstance(a, EntryRow)), None)
        if row is None:
            return False
        await row.remove()
        self.invalidate()
        self._changed()
        return True

    def list_of(self, widget: Widget | None) -> EntryList | None:
        """The list question that holds ``widget``."""
        if widget is None:
            return None
        return next((a for a in widget.ancestors_with_self if isinstance(a, EntryList)), None)

    # --- notes and focus ----------------------------------------------------------------
    def control_for(self, path: str) -> Widget | None:
        """The control that answers a case path (the list status for a whole list)."""
        by_id = self.index().by_id
        if path == "consultation_date":
            return by_id.get("q-consultation_date")
        where = locate_path(self.setup.sections, self.built, path)
        if where is None:
            return None
        source, row, name = where
        section = next(s for s in self.setup.sections if s.source == source)
        if section.entries:
            if row is None or name is None:
                return by_id.get(f"status-{section.list_id}")
            return by_id.get(f"q-{section.list_id}-{row}-{name}")
        question = next((q for q in section.questions if q.name == name), None)
        if question is None:
            return None
        return by_id.get(f"q-{widget_id(question.path)}")

    def focus_path(self, path: str) -> bool:
        """Focus (and scroll to) the question at a case path; False when there is none."""
        control = self.control_for(path)
        if control is None:
            return False
        holder = next((a for a in control.ancestors if isinstance(a, QuestionField)), None)
        if holder is not None and not holder.display:
            holder.display = True
        control.focus()
        self.call_after_refresh(control.scroll_visible)
        return True

    def annotate(self, notes: Sequence[tuple[str, NoteLevel, str]]) -> None:
        """Show notes (problems, recognised terms) beside the questions they concern."""
        slots: dict[TextBlock, list[tuple[NoteLevel, str]]] = {}
        flagged: set[Widget] = set()
        for path, level, text in notes:
            control = self.control_for(path)
            if control is None:
                continue
            holder = next(
                (
                    a
                    for a in control.ancestors
                    if isinstance(a, (QuestionField, EntryRow, EntryList))
                ),
                None,
            )
            if holder is None:
                continue
            slot = holder.query_children(".note").first(TextBlock)
            slots.setdefault(slot, []).append((level, text))
            if level == "error":
                flagged.add(control)
        for block in self.index().notes:
            items = slots.get(block, [])
            text = "\n".join(_mark(level) + t for level, t in items)
            if not block.set_text(text):
                continue  # unchanged: no restyle, no relayout
            levels = {level for level, _ in items}
            block.display = bool(items)
            block.set_class("error" in levels, "-error")
            block.set_class("warning" in levels and "error" not in levels, "-warning")
        for control in self._flagged - flagged:
            control.remove_class("-problem")
        self._flagged = flagged
        for control in flagged:
            if not control.has_class("-problem"):
                control.add_class("-problem")


def _mark(level: NoteLevel) -> str:
    return {"error": "✖ ", "warning": "? ", "info": "→ "}.get(level, "")


def controls_of(widget: Widget) -> Iterator[AnswerInput | AnswerSelect]:
    """Every answer control under ``widget``."""
    for child in widget.query("*"):
        if isinstance(child, (AnswerInput, AnswerSelect)):
            yield child
