"""WHY NOT: pick any finding code (or rule id) and see each rule's conditions, nearest first."""

from __future__ import annotations

from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.suggester import SuggestFromList
from textual.widgets import Header, Input, OptionList, Static
from textual.widgets.option_list import Option

from engine.assessment import Trace
from engine.explain import ExplainError, why_not
from engine.knowledge import Knowledge
from tui.explain_render import render_why_not
from tui.keymap import KeyFooter, key
from tui.messages import WhyNotReady
from tui.screens.workspace import Workspace
from tui.widgets.results import LEVELS


class WhyNotScreen(Screen[None]):
    """A code picker and the WHY NOT of the chosen code."""

    CSS_PATH = "../styles/why_not.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        key("escape", "back", "Back", "why_not.back", "Back"),
        key("ctrl+f", "search", "Search", "why_not.search", "Type a code or rule id"),
    ]

    def __init__(
        self,
        workspace: Workspace,
        trace: Trace,
        code: str = "",
        *,
        knowledge: Knowledge | None = None,
    ) -> None:
        super().__init__()
        self.workspace = workspace
        self.trace = trace
        self.code = code
        self.knowledge = knowledge or workspace.knowledge

    def _codes(self) -> list[tuple[str, str, str]]:
        knowledge = self.knowledge
        if knowledge is None:
            return []
        return [(c, e.title, e.level) for c, e in knowledge.catalogue.items()]

    def compose(self) -> ComposeResult:
        """Search, code list | explanation."""
        yield Header()
        knowledge = self.knowledge
        candidates = [c for c, _, _ in self._codes()]
        if knowledge is not None:
            candidates += list(knowledge.rule_index)
        with Horizontal(id="why-not-body"):
            with Vertical(id="code-pane"):
                yield Input(
                    self.code,
                    placeholder="code or rule id",
                    id="code-search",
                    suggester=SuggestFromList(candidates, case_sensitive=False),
                    compact=True,
                )
                yield OptionList(id="codes", markup=False)
            with VerticalScroll(id="why-not-box"):
                yield Static(
                    "Pick a code: Enter explains why it was (not) raised.",
                    id="why-not",
                    markup=False,
                )
        yield KeyFooter()

    def on_mount(self) -> None:
        """Fill the list; explain the given code at once."""
        self.title = "needlewise · why not"
        self._fill("")
        if self.code:
            self.explain(self.code)
            self.query_one("#codes", OptionList).focus()
        else:
            self.query_one("#code-search", Input).focus()

    def _fill(self, text: str) -> None:
        raised = {f.code for f in self.trace.assessment.findings}
        wanted = text.strip().upper()
        options = []
        for code, title, level in self._codes():
            if wanted and wanted not in code and wanted.lower() not in title.lower():
                continue
            symbol = LEVELS.get(level, ("·", "", ""))[0]
            mark = "raised" if code in raised else "not raised"
            options.append(Option(f"{symbol} {code} — {title} ({mark})", id=code))
        codes = self.query_one("#codes", OptionList)
        codes.clear_options()
        codes.add_options(options)

    @on(Input.Changed, "#code-search")
    def _filter(self, event: Input.Changed) -> None:
        self._fill(event.value)

    @on(Input.Submitted, "#code-search")
    def _submitted(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self.explain(event.value.strip())

    @on(OptionList.OptionSelected, "#codes")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            self.explain(event.option.id)

    @work(thread=True, exclusive=True, exit_on_error=False, group="why-not")
    def explain(self, target: str) -> None:
        """WHY NOT for a code or rule id (in a worker)."""
        knowledge = self.knowledge
        if knowledge is None:
            return
        try:
            found = why_not(knowledge, self.trace.assessment, self.trace.evaluation, target)
        except ExplainError as exc:
            self.app.call_from_thread(self._show, f"✖ {exc}")
            return
        self.post_message(WhyNotReady(found))

    @on(WhyNotReady)
    def _ready(self, event: WhyNotReady) -> None:
        self._show(render_why_not(event.why).replace("FAIL", "✖ FAIL").replace("ok  ", "✔ ok"))

    def _show(self, text: str) -> None:
        self.query_one("#why-not", Static).update(text)
        self.query_one("#why-not-box").scroll_home(animate=False)

    def action_back(self) -> None:
        """Back."""
        self.dismiss(None)

    def action_search(self) -> None:
        """Focus the search."""
        self.query_one("#code-search", Input).focus()
