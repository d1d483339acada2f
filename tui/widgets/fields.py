"""Answer controls: one Textual control per question, chosen by the question's type.

Booleans and enums are a ``Choice`` whose blank state reads "unanswered" (unknown is not
"no"); numbers, dates, terms and sites are an ``Input`` with validation and, for terms and
sites, completion from the terminology (terms, synonyms, brands; ``tui/completion.py``): the
best match is shown after the cursor, with the canonical term a synonym or brand stands for.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, runtime_checkable

from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.validation import ValidationResult, Validator
from textual.widget import Widget
from textual.widgets import Input, Label

from tui.completion import Completion, CompletionIndex, ghost_text, offer_text
from tui.keymap import key
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
                "Type a name: completion offers terms, synonyms and brands, also from a word "
                "inside a name ('dermatitis') or with a small typo ('isotretinon'), and shows "
                "the term a brand stands for. Right arrow accepts it; down offers the next "
                "match. A strength typed after the name is kept. An entry the terminology "
                "does not know is marked as such."
            )
        parts.append("Leave it blank while the answer is unknown: unanswered is never 'no'.")
        return "\n\n".join(parts)

    @property
    def answer(self) -> Any:  # noqa: ANN401 - an answer of any question type
        """The current answer (UNANSWERED when blank)."""
        raise NotImplementedError


WHY_ASKED = key("f8", "screen.why_asked", "Asked", "consultation.why_asked", "Why it is asked")
"""F8 on a question (the consultation screen answers it); shown where it applies."""


def _tooltip(question: Question) -> str:
    text = question.label
    if question.help:
        text += f"\n{question.help}"
    if question.default_note:
        text += f"\n({question.default_note})"
    return text


class AnswerInput(Input, AnswerControl):
    """A typed answer: numbers with their unit, dates, terms with completion, free text."""

    BINDINGS: ClassVar[list[BindingType]] = [
        key("down", "completion(1)", "Next match", "completion.next", "Offer the next match"),
        WHY_ASKED,
    ]

    @dataclass
    class Offered(Message):
        """The completion offered changed: its description for the line under the field."""

        input: AnswerInput
        text: str
        """'' when nothing is offered (or the field lost the focus)."""

    completer: CompletionIndex | None = None
    """Completion of names (term and site questions); None for other questions."""
    completions: tuple[Completion, ...] = ()
    """The matches of the text as typed, best first."""
    offered: int = 0
    """Which of them is offered after the cursor."""
    _offer_line = ""

    def __init__(
        self,
        question: Question,
        *,
        source: str,
        row: int | None = None,
        completer: CompletionIndex | None = None,
        value: Any = UNANSWERED,  # noqa: ANN401
        id: str | None = None,  # noqa: A002 - Textual's own parameter name
    ) -> None:
        self.completer = completer
        super().__init__(
            value=format_answer(question, value),
            placeholder=question.placeholder,
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

    # --- completion --------------------------------------------------------------------------
    def watch_value(self, value: str) -> None:
        """Complete the text as typed (Input's own watcher has just cleared the offer)."""
        if self.completer is None:
            return
        self.completions = self.completer.complete(value) if value.strip() else ()
        self._offer(0)

    def _offer(self, index: int) -> None:
        self.offered = index
        completion = self.completions[index] if self.completions else None
        tail = ghost_text(self.value, completion) if completion is not None else ""
        self._suggestion = self.value + tail if tail else ""
        self._announce()

    def _announce(self) -> None:
        """Tell the field's holder what is offered (it shows it under the field)."""
        offer = self.offer if self.has_focus else None
        line = offer_text(offer, self.offered, len(self.completions)) if offer else ""
        if line != self._offer_line:
            self._offer_line = line
            self.post_message(self.Offered(self, line))

    def on_focus(self) -> None:
        """Show the offer again when the field gets the focus back."""
        if self.completer is not None:
            self._announce()

    def on_blur(self) -> None:
        """Hide the offer line with the focus."""
        if self.completer is not None:
            self._announce()

    @property
    def offer(self) -> Completion | None:
        """The completion offered after the cursor (None when there is none)."""
        if not self.completions or not self._suggestion:
            return None
        return self.completions[self.offered]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Down goes through the matches in a name field (elsewhere it scrolls the form).

        Not only while there are several: the footer would be laid out again on keystrokes.
        """
        if action == "completion":
            return self.completer is not None
        return super().check_action(action, parameters)

    def action_completion(self, step: int) -> None:
        """Offer the match ``step`` places on (round to the first after the last)."""
        if self.completions:
            self._offer((self.offered + step) % len(self.completions))

    def action_cursor_right(self, select: bool = False) -> None:  # noqa: FBT001, FBT002 - Input's signature
        """Accept the offered completion at the end of the text, else move right."""
        offer = self.offer
        if offer is not None and not select and self.cursor_at_end:
            self.value = offer.text
            self.cursor_position = len(self.value)
            return
        super().action_cursor_right(select)


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

    BINDINGS: ClassVar[list[BindingType]] = [WHY_ASKED]

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
        completer=setup.completers.get(question.path),
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
        if completes(self.control):
            yield TextBlock(classes="offer")
        yield TextBlock(classes="note")

    def on_answer_input_offered(self, event: AnswerInput.Offered) -> None:
        """Show the completion offered by the control (names only)."""
        event.stop()
        show_offer(self, event.text)


def completes(control: Widget) -> bool:
    """Whether a control completes names (its holder then has an offer line under it)."""
    return isinstance(control, AnswerInput) and control.completer is not None


def show_offer(holder: Widget, text: str) -> None:
    """Show ``text`` in the holder's own offer line (hidden when empty)."""
    lines = holder.query_children(".offer")
    if not lines:
        return
    line = lines.first(TextBlock)
    changed = line.set_text(text)
    if line.display != bool(text):
        line.display = bool(text)
    if changed and text:  # the line under the field may have grown: keep it in view
        line.call_after_refresh(line.scroll_visible, animate=False)
