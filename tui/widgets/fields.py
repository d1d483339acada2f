"""Answer controls: one Textual control per question, chosen by the question's type.

Booleans and enums are a ``Choice`` whose blank state reads "unanswered" (unknown is not
"no"); numbers, dates, terms and sites are an ``Input`` with validation and, for terms and
sites, completion from the terminology (terms, synonyms, brands).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.suggester import SuggestFromList
from textual.validation import ValidationResult, Validator
from textual.widgets import Input, Label

from tui.widgets.choice import Choice
from tui.widgets.intake_model import (
    UNANSWERED,
    FormSetup,
    Question,
    Section,
    format_answer,
    parse_answer,
    widget_id,
)
from tui.widgets.text_block import TextBlock

UNANSWERED_PROMPT = "— unanswered —"
"""What a blank select shows: an unanswered question is never read as "no"."""


class AnswerValidator(Validator):
    """Validates typed answers with the same parser the form uses."""

    def __init__(self, question: Question) -> None:
        super().__init__()
        self.question = question

    def validate(self, value: str) -> ValidationResult:
        """Success unless the text cannot be read as an answer to the question."""
        _, error = parse_answer(self.question, value)
        return self.failure(error) if error else self.success()


@runtime_checkable
class Helpable(Protocol):
    """A widget with its own F1 help (Markdown)."""

    @property
    def help_text(self) -> str:
        """Help for this widget."""
        ...


class AnswerControl:
    """What every answer control knows: its question, section and entry row."""

    question: Question
    source: str
    """The section's case path (``client.medications``)."""
    row: int | None
    """Row serial for an entry field; None for a single question."""

    @property
    def help_text(self) -> str:
        """F1 help for this control (the Helpable protocol)."""
        parts = [f"**{self.question.label}**"]
        if self.question.help:
            parts.append(self.question.help)
        if self.question.default_note:
            parts.append(f"_{self.question.default_note}_")
        if self.question.values:
            parts.append("Answers: " + ", ".join(str(v) for v in self.question.values))
        if self.question.nullable:
            parts.append("Type `none` when the answer is none / never.")
        if self.question.type in {"term", "site"}:
            parts.append(
                "Type a name: completion offers terms, synonyms and brands (right arrow "
                "accepts). An entry the terminology does not know is marked as such."
            )
        parts.append("Leave it blank while the answer is unknown: unanswered is never 'no'.")
        return "\n\n".join(parts)

    @property
    def answer(self) -> Any:  # noqa: ANN401 - an answer of any question type
        """The current answer (UNANSWERED when blank)."""
        raise NotImplementedError


def _tooltip(question: Question) -> str:
    text = question.label
    if question.help:
        text += f"\n{question.help}"
    if question.default_note:
        text += f"\n({question.default_note})"
    return text


class AnswerInput(Input, AnswerControl):
    """A typed answer: numbers with their unit, dates, terms with completion, free text."""

    def __init__(
        self,
        question: Question,
        *,
        source: str,
        row: int | None = None,
        suggestions: Sequence[str] = (),
        value: Any = UNANSWERED,  # noqa: ANN401
        id: str | None = None,  # noqa: A002 - Textual's own parameter name
    ) -> None:
        suggester = SuggestFromList(suggestions, case_sensitive=False) if suggestions else None
        super().__init__(
            value=format_answer(question, value),
            placeholder=question.placeholder,
            suggester=suggester,
            validators=[AnswerValidator(question)],
            validate_on=["changed", "blur"],
            valid_empty=True,
            id=id,
            compact=True,
            tooltip=_tooltip(question),
        )
        self.question = question
        self.source = source
        self.row = row
        if question.type in {"integer", "number"}:
            self.add_class("-number")

    @property
    def answer(self) -> Any:  # noqa: ANN401
        """The parsed answer (UNANSWERED when blank or unreadable)."""
        value, _ = parse_answer(self.question, self.value)
        return value

    def show(self, value: Any) -> None:  # noqa: ANN401
        """Display a stored answer."""
        self.value = format_answer(self.question, value)


def select_options(
    question: Question, zones: Sequence[tuple[str, str]] = ()
) -> list[tuple[str, Any]]:
    """(label, value) options of a select question."""
    if question.type == "boolean":
        return [("yes", True), ("no", False)]
    if question.type == "site":
        return list(zones)
    return [(str(v).replace("_", " "), v) for v in question.values]


def uses_select(question: Question, *, key_field: str | None = None) -> bool:
    """Whether a question is answered with a select (closed set) rather than typed."""
    if question.type in {"boolean", "enum"}:
        return True
    return question.type == "site" and key_field == question.name


class AnswerSelect(Choice, AnswerControl):
    """A closed-set answer with an explicit "unanswered" blank (unknown is not "no")."""

    def __init__(
        self,
        question: Question,
        *,
        source: str,
        row: int | None = None,
        zones: Sequence[tuple[str, str]] = (),
        value: Any = UNANSWERED,  # noqa: ANN401
        id: str | None = None,  # noqa: A002 - Textual's own parameter name
    ) -> None:
        prompt = UNANSWERED_PROMPT
        if question.default_note:
            prompt = f"— {question.default_note} —"
        elif row is not None:
            prompt = f"{question.name.replace('_', ' ')}?"
        super().__init__(
            select_options(question, zones),
            blank=prompt,
            value=None if value is UNANSWERED else value,
            title=question.label,
            id=id,
            tooltip=_tooltip(question) + "\n(←/→ or a letter to choose, Del: unanswered)",
        )
        self.question = question
        self.source = source
        self.row = row

    @property
    def answer(self) -> Any:  # noqa: ANN401
        """The chosen value (UNANSWERED when blank)."""
        return self.value if self.chosen else UNANSWERED

    def show(self, value: Any) -> None:  # noqa: ANN401
        """Display a stored answer."""
        self.choose(None if value is UNANSWERED else value)


def make_control(
    setup: FormSetup,
    section: Section,
    question: Question,
    *,
    row: int | None,
    value: Any,  # noqa: ANN401
) -> AnswerInput | AnswerSelect:
    """The control for a question: a Choice for closed sets, an Input otherwise."""
    suffix = (
        f"{section.list_id}-{row}-{question.name}" if row is not None else widget_id(question.path)
    )
    if uses_select(question, key_field=section.key_field):
        return AnswerSelect(
            question,
            source=section.source,
            row=row,
            zones=setup.zones,
            value=value,
            id=f"q-{suffix}",
        )
    return AnswerInput(
        question,
        source=section.source,
        row=row,
        suggestions=setup.suggestions.get(question.path, ()),
        value=value,
        id=f"q-{suffix}",
    )


class QuestionField(Vertical):
    """A single question: its text, its control and a note line (problems, recognition)."""

    def __init__(self, control: AnswerInput | AnswerSelect, *, followup: bool = False) -> None:
        super().__init__(classes="question-field")
        self.control = control
        self.set_class(followup, "-followup")

    def compose(self) -> ComposeResult:
        """Question text, control, note."""
        label = self.control.question.label
        if self.control.question.optional:
            label += " (optional)"
        yield Label(label, classes="question", markup=False)
        yield self.control
        yield TextBlock(classes="note")
