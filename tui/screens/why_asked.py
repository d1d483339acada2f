"""WHY ASKED: the rules and codes whose outcome depends on a question."""

from __future__ import annotations

from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Header, Static

from engine.explain import ExplainError, why_asked
from engine.result import Assessment
from tui.explain_render import render_why_asked
from tui.keymap import KeyFooter, key
from tui.messages import WhyAskedReady
from tui.screens.workspace import Workspace


class WhyAskedScreen(Screen[None]):
    """Why a question is asked."""

    BINDINGS: ClassVar[list[BindingType]] = [
        key("escape", "back", "Back", "why_asked.back", "Back to the form"),
    ]

    def __init__(self, workspace: Workspace, assessment: Assessment, path: str) -> None:
        super().__init__()
        self.workspace = workspace
        self.assessment = assessment
        self.path = path

    def compose(self) -> ComposeResult:
        """The explanation."""
        yield Header()
        with VerticalScroll(id="why-asked-box"):
            yield Static(f"Why is {self.path} asked…", id="why-asked", markup=False)
        yield KeyFooter()

    def on_mount(self) -> None:
        """Explain in a worker."""
        self.title = "needlewise · why asked"
        self.sub_title = self.path
        self.query_one("#why-asked-box").focus()
        self._explain()

    @work(thread=True, exclusive=True, exit_on_error=False, group="why-asked")
    def _explain(self) -> None:
        knowledge = self.workspace.knowledge
        if knowledge is None:
            return
        try:
            found = why_asked(knowledge, self.assessment, self.path)
        except ExplainError as exc:
            self.app.call_from_thread(self.query_one("#why-asked", Static).update, f"✖ {exc}")
            return
        self.post_message(WhyAskedReady(found))

    @on(WhyAskedReady)
    def _ready(self, event: WhyAskedReady) -> None:
        self.query_one("#why-asked", Static).update(render_why_asked(event.why))

    def action_back(self) -> None:
        """Back."""
        self.dismiss(None)
