"""SUGGEST: verified plan changes that remove or lower findings, with their what-if difference.

Each suggestion was re-assessed before it is offered; the highlighted one's difference is shown
beside the list, and Enter (or a) applies it to the plan. A "wait" suggestion changes no plan
value: applying it plans the session for the date the wait ends (``tui.messages.ShiftDate``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Header, LoadingIndicator, OptionList, Static
from textual.widgets.option_list import Option

from engine.assessment import Trace
from engine.errors import EngineError
from engine.suggest import Suggestion, suggest
from engine.whatif import shift_days
from tui.explain_render import render_difference
from tui.keymap import KeyFooter, key
from tui.messages import ApplyChanges, ShiftDate, SuggestionsReady
from tui.screens.workspace import Workspace


def shifted_answers(before: Any, after: Any, path: str = "") -> Iterator[str]:  # noqa: ANN401 - case data
    """``path: old -> new`` for every value that differs between two versions of case data."""
    if isinstance(before, Mapping) and isinstance(after, Mapping):
        for name in after:
            sub = f"{path}.{name}" if path else str(name)
            yield from shifted_answers(before.get(name), after[name], sub)
    elif isinstance(before, list) and isinstance(after, list):
        for i, (old, new) in enumerate(zip(before, after, strict=False)):
            yield from shifted_answers(old, new, f"{path}[{i}]")
    elif before != after:
        yield f"{path}: {before} -> {after}"


def suggestion_details(suggestion: Suggestion, shifted: tuple[str, ...] = ()) -> str:
    """What a suggestion changes and what that does (the what-if difference).

    ``shifted``: for a wait, the answers that moving the date changes (``shifted_answers``).
    """
    lines = [f"{suggestion.code}: {suggestion.text}", ""]
    if suggestion.changes:
        lines.append("changes: " + "; ".join(str(c) for c in suggestion.changes))
    elif suggestion.wait_until:
        lines.append(
            f"applying it plans the session for {suggestion.wait_until} "
            f"(+{suggestion.wait_days} days); the plan itself does not change:"
        )
        lines.extend(f"  {line}" for line in shifted)
    else:
        lines.append("nothing in the plan changes: the date does")
    lines.extend(["", "what if (verified by re-assessing):"])
    lines.extend(f"  {line}" for line in render_difference(suggestion.effect))
    return "\n".join(lines)


class SuggestionsScreen(Screen[object]):
    """Verified suggestions; Enter applies the highlighted one."""

    CSS_PATH = "../styles/suggestions.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        key("escape", "back", "Back", "suggest.back", "Back without changing the plan"),
        key("a", "apply", "Apply", "suggest.apply", "Apply the highlighted suggestion to the plan"),
    ]

    def __init__(self, workspace: Workspace, trace: Trace, codes: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.workspace = workspace
        self.trace = trace
        self.codes = codes
        self.suggestions: tuple[Suggestion, ...] = ()

    def compose(self) -> ComposeResult:
        """List | difference."""
        yield Header()
        with Horizontal(id="suggest-body"):
            yield LoadingIndicator(id="suggest-loading")
            yield OptionList(id="suggestions", markup=False)
            with VerticalScroll(id="suggest-detail-box"):
                yield Static("", id="suggest-detail", markup=False)
        yield KeyFooter()

    def on_mount(self) -> None:
        """Compute in a worker (each suggestion is verified by re-assessing)."""
        self.title = "needlewise · suggestions"
        self.sub_title = ", ".join(self.codes) or "all findings"
        self.query_one("#suggestions").display = False
        self._suggest()

    @work(thread=True, exclusive=True, exit_on_error=False, group="suggest")
    def _suggest(self) -> None:
        assessor = self.workspace.assessor
        if assessor is None:
            return
        try:
            found = suggest(assessor, self.trace.case, self.codes or None)
        except (EngineError, ValueError) as exc:
            self.post_message(SuggestionsReady((), error=str(exc)))
            return
        self.post_message(SuggestionsReady(found))

    @on(SuggestionsReady)
    def _ready(self, event: SuggestionsReady) -> None:
        self.suggestions = event.suggestions
        self.query_one("#suggest-loading").display = False
        options = self.query_one("#suggestions", OptionList)
        options.display = True
        options.clear_options()
        detail = self.query_one("#suggest-detail", Static)
        if event.error:
            detail.update(f"✖ {event.error}")
            return
        if not event.suggestions:
            detail.update("No plan change removes or lowers these findings.")
            return
        options.add_options(
            [Option(f"{s.code}: {s.text}", id=str(i)) for i, s in enumerate(event.suggestions)]
        )
        options.highlighted = 0
        options.focus()

    @on(OptionList.OptionHighlighted, "#suggestions")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option.id is not None:
            suggestion = self.suggestions[int(event.option.id)]
            detail = suggestion_details(suggestion, self._shifted(suggestion))
            self.query_one("#suggest-detail", Static).update(detail)

    def _shifted(self, suggestion: Suggestion) -> tuple[str, ...]:
        """For a wait: the answers that planning the session on its end date changes."""
        knowledge = self.workspace.knowledge
        if suggestion.kind != "wait" or not suggestion.wait_days or knowledge is None:
            return ()
        before = self.trace.case.raw or {}
        after = shift_days(knowledge, before, suggestion.wait_days)
        return tuple(shifted_answers(before, after))

    @on(OptionList.OptionSelected, "#suggestions")
    def _selected(self, _event: OptionList.OptionSelected) -> None:
        self.action_apply()

    def action_apply(self) -> None:
        """Apply the highlighted suggestion."""
        options = self.query_one("#suggestions", OptionList)
        index = options.highlighted
        if index is None or not self.suggestions:
            return
        suggestion = self.suggestions[index]
        if suggestion.kind == "wait" and suggestion.wait_until:
            self.dismiss(ShiftDate(changes=(), label=suggestion.text, until=suggestion.wait_until))
            return
        if not suggestion.changes:
            self.notify("This suggestion changes nothing in the plan", timeout=6, markup=False)
            return
        self.dismiss(ApplyChanges(changes=suggestion.changes, label=suggestion.text))

    def action_back(self) -> None:
        """Back without changes."""
        self.dismiss(None)
