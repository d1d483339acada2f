"""List questions (conditions, medications, planned areas...): a status and rows of entries."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Label

from tui.keymap import key
from tui.widgets.answers import ListAnswer, ListStatus
from tui.widgets.choice import Choice
from tui.widgets.fields import (
    WHY_ASKED,
    AnswerInput,
    AnswerSelect,
    QuestionField,
    completes,
    make_control,
    show_offer,
)
from tui.widgets.intake_model import UNANSWERED, FormSetup, Section
from tui.widgets.text_block import TextBlock


class EntryRow(Vertical):
    """One entry of a list question (a medication, a planned area...)."""

    def __init__(
        self,
        setup: FormSetup,
        section: Section,
        serial: int,
        values: Mapping[str, Any],
    ) -> None:
        super().__init__(classes="entry-row", id=f"row-{section.list_id}-{serial}")
        self.setup = setup
        self.section = section
        self.serial = serial
        self.values = values

    def compose(self) -> ComposeResult:
        """Main fields on one line, follow-up questions below, then the note line."""
        main = [q for q in self.section.questions if not q.ask_when]
        followups = [q for q in self.section.questions if q.ask_when]
        offers = False
        with Horizontal(classes="entry-main"):
            for question in main:
                control = make_control(
                    self.setup,
                    self.section,
                    question,
                    row=self.serial,
                    value=self.values.get(question.name, UNANSWERED),
                )
                offers = offers or completes(control)
                yield control
            yield Button(
                "✕",
                classes="remove-row",
                compact=True,
                tooltip=f"Remove this {self.section.kind} entry",
            )
        if offers:  # a name completes: what it offers shows under the main line
            yield TextBlock(classes="offer")
        for question in followups:
            control = make_control(
                self.setup,
                self.section,
                question,
                row=self.serial,
                value=self.values.get(question.name, UNANSWERED),
            )
            yield QuestionField(control, followup=True)
        yield TextBlock(classes="note")

    def on_answer_input_offered(self, event: AnswerInput.Offered) -> None:
        """Show the completion offered by a name in the row, under the row's main line."""
        event.stop()
        show_offer(self, event.text)

    def controls(self) -> Iterator[AnswerInput | AnswerSelect]:
        """Every answer control of the row."""
        for widget in self.query("*"):
            if isinstance(widget, (AnswerInput, AnswerSelect)):
                yield widget

    def answers(self) -> dict[str, Any]:
        """Field -> answer."""
        return {c.question.name: c.answer for c in self.controls()}


STATUS_OPTIONS: list[tuple[str, ListStatus]] = [
    ("none", "none"),
    ("yes, listed below", "listed"),
]


class EntryList(Vertical):
    """A list question: "any?" (unanswered / none / listed) plus rows with add and remove."""

    BINDINGS: ClassVar[list[BindingType]] = [
        # Shown while the focus is in the list (the consultation screen adds the row).
        key(
            "ctrl+t",
            "screen.add_entry",
            "Add entry",
            "consultation.add_entry",
            "Add an entry to this list",
        ),
        WHY_ASKED,
    ]

    def __init__(self, setup: FormSetup, section: Section, answer: ListAnswer) -> None:
        super().__init__(classes="entry-list", id=f"list-{section.list_id}")
        self.setup = setup
        self.section = section
        self.initial = answer
        self.set_class(answer.status == "none", "-none")

    def compose(self) -> ComposeResult:
        """Header question, status select, rows, add button."""
        first = self.section.questions[0]
        yield Label(first.label, classes="question", markup=False)
        yield Choice(
            STATUS_OPTIONS,
            value=self.initial.status,
            title=self.section.title,
            id=f"status-{self.section.list_id}",
            classes="list-status",
            tooltip=f"{self.section.title}: none, or listed below (blank = unanswered)",
        )
        with Vertical(classes="rows"):
            for serial, values in self.initial.rows:
                yield EntryRow(self.setup, self.section, serial, values)
        yield Button(
            f"+ add {self.section.kind}",
            classes="add-row",
            compact=True,
            id=f"add-{self.section.list_id}",
            tooltip=f"Add a {self.section.kind} entry",
        )
        yield TextBlock(classes="note")

    @property
    def status_select(self) -> Choice:
        """The unanswered / none / listed choice."""
        return self.query_one(f"#status-{self.section.list_id}", Choice)

    def rows(self) -> list[EntryRow]:
        """The rows in display order."""
        return list(self.query_one(".rows", Vertical).query_children(EntryRow))

    def answer(self) -> ListAnswer:
        """The list answer as it stands."""
        value = self.status_select.value
        status: ListStatus = value if value in {"none", "listed"} else "unanswered"
        rows = tuple((row.serial, row.answers()) for row in self.rows())
        return ListAnswer(status=status, rows=rows)
