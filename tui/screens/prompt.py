"""Ask for one line of text (the practitioner's name, a client's name, a directory)."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from tui.keymap import key


class PromptScreen(ModalScreen[str | None]):
    """One question, one line; Enter answers, Escape cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [
        key("escape", "cancel", "Cancel", "prompt.cancel", "Close without answering"),
    ]

    def __init__(
        self,
        title: str,
        question: str,
        *,
        value: str = "",
        placeholder: str = "",
        required: bool = True,
    ) -> None:
        super().__init__()
        self.heading = title
        self.question = question
        self.value = value
        self.placeholder = placeholder
        self.required = required

    def compose(self) -> ComposeResult:
        """Title, question, input."""
        with Vertical(classes="dialog"):
            yield Label(self.heading, classes="dialog-title", markup=False)
            yield Static(self.question, markup=False)
            yield Input(self.value, placeholder=self.placeholder, id="prompt-input")
            yield Static(
                "Enter: OK · Escape: cancel", classes="dim", id="prompt-hint", markup=False
            )

    def on_mount(self) -> None:
        """Type straight away."""
        self.query_one("#prompt-input", Input).focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        if self.required and not text:
            self.query_one("#prompt-hint", Static).update(
                "✖ An answer is required (Escape: cancel)"
            )
            return
        self.dismiss(text)

    def action_cancel(self) -> None:
        """No answer."""
        self.dismiss(None)
