"""F1 help: the focused question's help first, then the keys and how to use the app."""

from __future__ import annotations

from importlib import resources
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

from tui.keymap import KeyFooter, key


def help_text() -> str:
    """The help page (tui/help.md, shipped as package data)."""
    return resources.files("tui").joinpath("help.md").read_text(encoding="utf-8")


class HelpScreen(ModalScreen[None]):
    """Help for the focused question, then the general help."""

    CSS_PATH = "../styles/help.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        key("escape,f1,q", "dismiss", "Close", "help.close", "Close the help"),
    ]

    def __init__(self, topic: str = "") -> None:
        super().__init__()
        self.topic = topic

    def compose(self) -> ComposeResult:
        """The topic (if any) and the help page."""
        text = help_text()
        if self.topic:
            text = f"## This question\n\n{self.topic}\n\n---\n\n{text}"
        with VerticalScroll(id="help-body"):
            yield Markdown(text, id="help-text")
        yield KeyFooter()

    def on_mount(self) -> None:
        """Scroll with the keyboard straight away."""
        self.query_one("#help-body").focus()
