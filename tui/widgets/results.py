"""The results panel: decision banner, findings by level, depth per zone, missing answers, care.

Widgets render immutable results handed down by the screen and post ``...Selected`` messages
up; they never call the engine. Every level and verdict has a symbol and a word, never colour
alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Label, OptionList, Static
from textual.widgets.option_list import Option

from engine.errors import Problem
from engine.model import LEVEL_RANK
from engine.result import Assessment, CareInstruction, DepthVerdict, Finding
from tui.keymap import key
from tui.messages import DecisionSelected, DepthSelected, FindingSelected, MissingSelected
from tui.widgets.text_block import TextBlock

LEVELS: dict[str, tuple[str, str, str]] = {
    "absolute": ("✖", "ABSOLUTE", "bold red"),
    "relative": ("▲", "RELATIVE", "bold yellow"),
    "caution": ("◆", "CAUTION", "cyan"),
    "info": ("·", "INFO", "dim"),
}
"""Level -> (symbol, word, style)."""

DECISIONS: dict[str, tuple[str, str, str]] = {
    "PROCEED": ("✔", "PROCEED", "-proceed"),
    "PROCEED_WITH_MODIFICATIONS": ("✎", "PROCEED WITH MODIFICATIONS", "-modify"),
    "NEEDS_ANSWERS": ("?", "NEEDS ANSWERS", "-needs"),
    "DECLINE_AREA": ("◐", "DECLINE AREA", "-caution"),
    "REFER_FOR_CLEARANCE": ("⚑", "REFER FOR CLEARANCE", "-caution"),
    "DEFER": ("‖", "DEFER", "-stop"),
    "DECLINE": ("✖", "DECLINE", "-stop"),
}
"""Decision -> (symbol, words, CSS class)."""

VERDICTS: dict[str, tuple[str, str]] = {
    "within": ("✔ within", "green"),
    "above_soft": ("▲ above soft", "bold yellow"),
    "exceeds_hard": ("✖ exceeds max", "bold red"),
    "do_not_treat": ("⊘ do not treat", "bold red"),
    "no_sourced_limit": ("? no sourced limit", "magenta"),
    "unknown": ("· depth unanswered", "dim"),
}
"""Depth verdict -> (symbol and words, style)."""


def level_cell(level: str) -> Text:
    """A level as symbol + word, styled."""
    symbol, word, style = LEVELS.get(level, ("·", level.upper(), ""))
    return Text(f"{symbol} {word}", style=style)


def finding_state(finding: Finding) -> str:
    """'cleared by ...' / 'overridden by ...' / ''."""
    if finding.cleared is not None:
        return f"✓ cleared ({finding.cleared.by})"
    if finding.overridden is not None:
        return f"↷ overridden ({finding.overridden.by})"
    return ""


def _mm(value: float | None) -> str:
    return "—" if value is None else f"{value:g}"


class DecisionBanner(Static, can_focus=True):
    """The decision, with a symbol and words (colour is a bonus); Enter explains it."""

    _shown: tuple[str, str] = ("", "")

    BINDINGS: ClassVar[list[BindingType]] = [
        key("enter", "explain", "Why?", "banner.explain", "Explain how the decision was reached"),
    ]

    def show(
        self,
        assessment: Assessment | None,
        *,
        problems: int = 0,
        error: str = "",
        stale: bool = False,
    ) -> None:
        """Render the decision (or why there is none)."""
        if assessment is None:
            css = "-invalid"
            if error:
                text = f"✖ ENGINE ERROR: {error}"
            else:
                text = f"✖ NOT ASSESSED: {problems} answer(s) need fixing (marked in the form)"
            self._paint(text, css)
            return
        symbol, words, css = DECISIONS.get(
            assessment.decision, ("·", assessment.decision, "-needs")
        )
        text = f"{symbol} {words}"
        if assessment.provisional:
            text += "  (provisional: questions unanswered)"
        if stale:
            text += f"  [last valid; {problems} answer(s) need fixing]"
        counting = [f for f in assessment.findings if f.counts and f.level != "info"]
        text += (
            f"\n{len(counting)} finding(s) to act on · {len(assessment.missing)} question(s) open"
        )
        self._paint(text, css)

    def _paint(self, text: str, css: str) -> None:
        if (text, css) == self._shown:
            return
        self._shown = (text, css)
        for _, _, name in DECISIONS.values():
            self.set_class(name == css, name)
        self.set_class(css == "-invalid", "-invalid")
        self.update(text)

    def action_explain(self) -> None:
        """Ask the screen to explain the decision."""
        self.post_message(DecisionSelected())

    def on_click(self) -> None:
        """Mouse: explain the decision."""
        self.post_message(DecisionSelected())


class FindingsTable(DataTable[Text | str]):
    """Findings grouped by level (most severe first); Enter explains the highlighted one."""

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id, cursor_type="row", zebra_stripes=False)
        self._shown: tuple[Finding, ...] | None = None

    def on_mount(self) -> None:
        """Columns."""
        # Title last: at 80 columns the level, code, zones and status stay in view.
        for name in ("level", "code", "zones", "status", "title"):
            self.add_column(name, key=name)

    def show(self, findings: Sequence[Finding]) -> None:
        """Replace the rows (kept when nothing changed, so the cursor stays put)."""
        ordered = tuple(sorted(findings, key=lambda f: (LEVEL_RANK.get(f.level, 9), f.code)))
        if ordered == self._shown:
            return
        current = self.cursor_row
        key = None
        if self._shown and 0 <= current < len(self._shown):
            key = self._shown[current].code
        self._shown = ordered
        self.clear()
        for finding in ordered:
            state = finding_state(finding)
            title = Text(finding.title, style="strike dim" if state else "")
            self.add_row(
                level_cell(finding.level),
                Text(finding.code),
                Text(", ".join(finding.zones)),
                Text(state),
                title,
                key=finding.code,
            )
        codes = [f.code for f in ordered]
        if key in codes:
            self.move_cursor(row=codes.index(key))

    @property
    def selected_code(self) -> str | None:
        """Code of the highlighted finding."""
        if not self._shown or not 0 <= self.cursor_row < len(self._shown):
            return None
        return self._shown[self.cursor_row].code

    @on(DataTable.RowSelected)
    def _selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value is not None:
            self.post_message(FindingSelected(str(event.row_key.value)))


class DepthTable(DataTable[Text | str]):
    """Planned depth against the limits, per zone; Enter explains a zone's verdict."""

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id, cursor_type="row")
        self._shown: tuple[DepthVerdict, ...] | None = None

    def on_mount(self) -> None:
        """Columns."""
        for name in ("zone", "planned", "verdict", "soft", "max", "recommended"):
            self.add_column(name, key=name)

    def show(self, depth: Sequence[DepthVerdict]) -> None:
        """Replace the rows when they changed."""
        shown = tuple(depth)
        if shown == self._shown:
            return
        self._shown = shown
        self.clear()
        for verdict in shown:
            words, style = VERDICTS.get(verdict.verdict, (verdict.verdict, ""))
            low_high = verdict.recommended_mm
            recommended = f"{low_high[0]:g}-{low_high[1]:g} mm" if low_high else "—"
            self.add_row(
                verdict.zone,
                _mm(verdict.planned_mm),
                Text(words, style=style),
                _mm(verdict.soft_flag_mm),
                _mm(verdict.hard_max_mm),
                recommended,
                key=verdict.zone,
            )

    @on(DataTable.RowSelected)
    def _selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value is not None:
            self.post_message(DepthSelected(str(event.row_key.value)))


class MissingList(OptionList):
    """Unanswered questions that could raise a finding; Enter jumps to the question."""

    def show(self, assessment: Assessment) -> None:
        """Replace the options."""
        wanted = [(m.field, m.question, m.level, m.could_raise) for m in assessment.missing]
        current = [(o.id, str(o.prompt)) for o in self.options]
        if [(w[0], _missing_text(*w[1:])) for w in wanted] == current:
            return
        self.clear_options()
        self.add_options(
            [Option(_missing_text(q, level, codes), id=path) for path, q, level, codes in wanted]
        )
        self.display = bool(wanted)

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id is not None:
            self.post_message(MissingSelected(event.option.id))


def _missing_text(question: str, level: str, codes: Sequence[str]) -> str:
    symbol, word, _ = LEVELS.get(level, ("?", level, ""))
    raised = codes[0] if codes else ""
    if len(codes) > 1:
        raised += f" +{len(codes) - 1}"
    return f"{symbol} {question} → {word.lower()}: {raised}"


def care_text(items: Sequence[CareInstruction]) -> str:
    """Care instructions, grouped by when."""
    if not items:
        return "none"
    return "\n".join(f"• [{c.when}] {c.text}" for c in items)


class ResultsPanel(VerticalScroll):
    """Everything the assessment says, in reading order."""

    def compose(self) -> ComposeResult:
        """Sections in order of importance."""
        yield Label("Findings", classes="results-heading", markup=False)
        yield FindingsTable(id="findings")
        yield Label("Depth per zone", classes="results-heading", markup=False)
        yield DepthTable(id="depth")
        yield Label(
            "Missing answers (Enter: go to the question)", classes="results-heading", markup=False
        )
        yield MissingList(id="missing", markup=False)
        yield TextBlock("none: no open question could raise a finding", id="no-missing")
        yield TextBlock(id="notes", classes="results-notes")
        yield Label("Clearances and overrides", classes="results-heading", markup=False)
        yield TextBlock(id="records")
        yield Label("Pre-care", classes="results-heading", markup=False)
        yield TextBlock(id="precare")
        yield Label("Aftercare", classes="results-heading", markup=False)
        yield TextBlock(id="aftercare")
        yield Label("Expected effects", classes="results-heading", markup=False)
        yield TextBlock(id="effects")
        yield TextBlock(id="stamp", classes="results-stamp")

    def show(self, assessment: Assessment | None, problems: Sequence[Problem] = ()) -> None:
        """Render an assessment (None: keep the last one, show the problems)."""
        notes: list[str] = []
        if problems:
            notes.append("✖ Answers that need fixing (the case was not assessed):")
            notes.extend(f"  ✖ {p.location.dotted() or 'case'}: {p.message}" for p in problems)
        if assessment is not None:
            notes.extend(
                f"? Not recognised: '{u.entry}' ({u.field})" for u in assessment.unrecognized
            )
            notes.extend(f"⚠ Inconsistent: {i.message}" for i in assessment.inconsistencies)
        note = self.query_one("#notes", TextBlock)
        if note.set_text("\n".join(notes)):
            note.display = bool(notes)
        if assessment is None:
            return
        self.query_one(FindingsTable).show(assessment.findings)
        self.query_one(DepthTable).show(assessment.depth)
        missing = self.query_one(MissingList)
        missing.show(assessment)
        self.query_one("#no-missing").display = not assessment.missing
        records = [
            f"✓ {f.code} cleared by {f.cleared.by}"
            + (f" on {f.cleared.date}" if f.cleared.date else "")
            + (f": {f.cleared.note}" if f.cleared.note else "")
            for f in assessment.findings
            if f.cleared is not None
        ] + [
            f"↷ {f.code} overridden by {f.overridden.by}: {f.overridden.reason}"
            for f in assessment.findings
            if f.overridden is not None
        ]
        self.query_one("#records", TextBlock).set_text("\n".join(records) or "none")
        self.query_one("#precare", TextBlock).set_text(care_text(assessment.precare))
        self.query_one("#aftercare", TextBlock).set_text(care_text(assessment.aftercare))
        self.query_one("#effects", TextBlock).set_text(
            "\n".join(f"• [{e.band}] {e.text}" for e in assessment.expected_effects) or "none"
        )
        k = assessment.knowledge
        self.query_one("#stamp", TextBlock).set_text(
            f"knowledge {k.name} {k.version} ({k.hash[:12]}) · {assessment.engine}\n"
            f"{assessment.disclaimer}"
        )
