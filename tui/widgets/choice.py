"""A one-line choice for closed-set questions, answered from the keyboard.

Lighter than ``Select`` (one widget instead of six, which keeps a long intake form quick to
build) and faster to answer: ``y``/``n`` or any first letter jumps to an option, ←/→ step
through them, Delete makes it unanswered again, Enter opens the full list.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.message import Message
from textual.reactive import reactive
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from tui.keymap import key

NOT_CHOSEN = -1
"""Index of the blank (unanswered) state."""


class ChoicePicker(ModalScreen[int | None]):
    """The full list of a choice's options (Enter on a Choice)."""

    DEFAULT_CSS = """
    ChoicePicker { align: center middle; }
    ChoicePicker > OptionList { width: 60; max-width: 90%; height: auto; max-height: 80%;
        border: thick $primary; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        key("escape", "dismiss(None)", "Cancel", "choice.cancel", "Keep the answer"),
    ]

    def __init__(self, title: str, labels: Sequence[str], blank: str, current: int) -> None:
        super().__init__()
        self.labels = labels
        self.blank = blank
        self.current = current
        self.heading = title

    def compose(self) -> ComposeResult:
        """The options, the blank one first."""
        options = OptionList(
            Option(self.blank, id="-1"),
            *[Option(label, id=str(i)) for i, label in enumerate(self.labels)],
            markup=False,
        )
        options.border_title = self.heading
        yield options

    def on_mount(self) -> None:
        """Highlight the current answer."""
        options = self.query_one(OptionList)
        options.highlighted = self.current + 1
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """Return the chosen index."""
        event.stop()
        self.dismiss(int(event.option.id or NOT_CHOSEN))


class Choice(Widget, can_focus=True):
    """Pick one of a few values, or leave it unanswered."""

    DEFAULT_CSS = """
    Choice {
        height: 1;
        width: 1fr;
        background: $boost;
        color: $text;
        padding: 0 1;
    }
    Choice.-blank { color: $text-muted; }
    Choice:focus { background: $primary 30%; text-style: bold; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        key("right,space", "step(1)", "Next", "choice.next", "Next option", show=False),
        key("left", "step(-1)", "Previous", "choice.previous", "Previous option", show=False),
        key(
            "delete,backspace",
            "clear",
            "Unanswered",
            "choice.clear",
            "Back to unanswered",
            show=False,
        ),
        key("enter", "pick", "Choose…", "choice.pick", "Show every option"),
    ]

    index: reactive[int] = reactive(NOT_CHOSEN)
    """The chosen option (NOT_CHOSEN: unanswered)."""

    @dataclass
    class Changed(Message):
        """The choice changed."""

        choice: Choice
        value: Any

        @property
        def control(self) -> Choice:
            """The choice that changed."""
            return self.choice

    def __init__(
        self,
        options: Sequence[tuple[str, Any]],
        *,
        blank: str = "— unanswered —",
        value: Any = None,  # noqa: ANN401
        title: str = "",
        id: str | None = None,  # noqa: A002 - Textual's own parameter name
        classes: str | None = None,
        tooltip: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.options = list(options)
        self.blank = blank
        self.title = title
        if tooltip:
            self.tooltip = tooltip
        values = [v for _, v in self.options]
        self.set_reactive(Choice.index, values.index(value) if value in values else NOT_CHOSEN)
        self.set_class(self.index == NOT_CHOSEN, "-blank")

    @property
    def value(self) -> Any:  # noqa: ANN401
        """The chosen value, or None when unanswered."""
        return None if self.index == NOT_CHOSEN else self.options[self.index][1]

    @property
    def chosen(self) -> bool:
        """Whether an option is chosen."""
        return self.index != NOT_CHOSEN

    def choose(self, value: Any) -> None:  # noqa: ANN401
        """Choose by value (an unknown value or None: unanswered)."""
        values = [v for _, v in self.options]
        self.index = values.index(value) if value in values else NOT_CHOSEN

    def render(self) -> Text:
        """The label between single angle quotes, or the blank prompt."""
        if self.index == NOT_CHOSEN:
            return Text(self.blank)
        return Text(f"\u2039 {self.options[self.index][0]} \u203a")  # single angle quotes

    def watch_index(self, old: int, new: int) -> None:
        """Restyle and tell the form."""
        self.set_class(new == NOT_CHOSEN, "-blank")
        if old != new:
            self.post_message(self.Changed(self, self.value))

    def action_step(self, delta: int) -> None:
        """Step through the options; the blank state sits between the last and the first."""
        count = len(self.options) + 1
        self.index = (self.index + 1 + delta) % count - 1

    def action_clear(self) -> None:
        """Unanswered."""
        self.index = NOT_CHOSEN

    def action_pick(self) -> None:
        """Choose from the full list."""

        def chosen(index: int | None) -> None:
            if index is not None:
                self.index = index

        self.app.push_screen(
            ChoicePicker(self.title, [label for label, _ in self.options], self.blank, self.index),
            callback=chosen,
        )

    def on_key(self, event: events.Key) -> None:
        """A letter jumps to the next option whose label starts with it."""
        char = event.character
        if not char or not char.isalnum() or len(char) != 1:
            return
        labels = [label.lower() for label, _ in self.options]
        count = len(labels)
        for step in range(1, count + 1):
            i = (self.index + step) % count
            if labels[i].startswith(char.lower()):
                self.index = i
                event.stop()
                event.prevent_default()
                return

    def on_click(self) -> None:
        """Mouse: step to the next option."""
        self.action_step(1)
