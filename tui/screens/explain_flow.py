"""From the results to the explanations and back: HOW, WHY NOT, WHY ASKED, suggestions, records.

``ExplainFlow`` is the consultation screen's base: it opens the explanation screens for what is
selected in the results, and applies what they return (a suggestion's plan changes, a clearance,
an override) to the answers, which are then re-assessed.
"""

from __future__ import annotations

from dataclasses import replace

from textual import on

from engine.assessment import Trace
from engine.whatif import Change, apply_changes
from tui.messages import (
    AddRecord,
    ApplyChanges,
    DecisionSelected,
    DepthSelected,
    FindingSelected,
    MissingSelected,
    RemoveRecord,
)
from tui.screens.records_flow import RecordsScreen
from tui.widgets.answers import FormAnswers, answers_from_data, build_case_data
from tui.widgets.fields import AnswerInput, AnswerSelect
from tui.widgets.intake_form import IntakeForm


class ExplainFlow(RecordsScreen):
    """Explanations of the consultation on screen, and the edits they send back."""

    last_trace: Trace | None

    @property
    def form(self) -> IntakeForm:
        """The intake form."""
        raise NotImplementedError

    def request_assessment(self, answers: FormAnswers, *, force: bool = False) -> None:
        """Assess ``answers`` (the screen implements it)."""
        raise NotImplementedError

    async def load_answers(self, answers: FormAnswers) -> None:
        """Replace the form's answers (the screen implements it)."""
        raise NotImplementedError

    # --- results -> explanations ------------------------------------------------------
    @on(FindingSelected)
    def _on_finding(self, event: FindingSelected) -> None:
        event.stop()
        self.explain(("finding", event.code))

    @on(DepthSelected)
    def _on_depth(self, event: DepthSelected) -> None:
        event.stop()
        self.explain(("depth", event.zone))

    @on(DecisionSelected)
    def _on_decision(self, event: DecisionSelected) -> None:
        event.stop()
        self.explain(("decision", ""))

    @on(MissingSelected)
    def _on_missing(self, event: MissingSelected) -> None:
        event.stop()
        if not self.form.focus_path(event.field):
            self.notify(
                f"No question in the form for {event.field}", severity="warning", markup=False
            )

    def explain(self, target: tuple[str, str]) -> None:
        """Open the explanation of a finding, a depth verdict or the decision."""
        if self.last_trace is None:
            self.notify("Nothing assessed yet", severity="warning", markup=False)
            return
        from tui.screens.explanation import ExplanationScreen  # noqa: PLC0415 - cycle

        self.app.push_screen(
            ExplanationScreen(self.workspace, self.last_trace, target),
            callback=self.apply_edit,
        )

    def action_explain_decision(self) -> None:
        """Explain the decision."""
        self.explain(("decision", ""))

    def action_why_not(self, code: str = "") -> None:
        """WHY NOT for a code (asks which when none is given)."""
        if self.last_trace is None:
            self.notify("Nothing assessed yet", severity="warning", markup=False)
            return
        from tui.screens.why_not import WhyNotScreen  # noqa: PLC0415

        self.app.push_screen(WhyNotScreen(self.workspace, self.last_trace, code))

    def action_suggest(self, code: str = "") -> None:
        """Verified suggestions for the findings (or one code)."""
        if self.last_trace is None:
            self.notify("Nothing assessed yet", severity="warning", markup=False)
            return
        from tui.screens.suggestions import SuggestionsScreen  # noqa: PLC0415

        codes = (code,) if code else ()
        self.app.push_screen(
            SuggestionsScreen(self.workspace, self.last_trace, codes), callback=self.apply_edit
        )

    def focused_path(self) -> str:
        """The case path of the focused question ('' when no question is focused)."""
        focused = self.focused
        if isinstance(focused, (AnswerInput, AnswerSelect)):
            if focused.source == "consultation":
                return ""
            if focused.row is None:
                return focused.question.path
            return f"{focused.source}.{focused.question.name}"
        lst = self.form.list_of(focused)
        return lst.section.source if lst is not None else ""

    def action_why_asked(self, path: str = "") -> None:
        """WHY ASKED for the focused question (or a case path)."""
        path = path or self.focused_path()
        if not path or self.last_trace is None:
            self.notify(
                "Focus a question first (Tab into the form)", severity="warning", markup=False
            )
            return
        from tui.screens.why_asked import WhyAskedScreen  # noqa: PLC0415

        self.app.push_screen(WhyAskedScreen(self.workspace, self.last_trace.assessment, path))

    # --- edits coming back from explanation screens -------------------------------------
    async def apply_edit(self, edit: object) -> None:
        """Apply a suggestion's changes, a clearance or an override, then re-assess."""
        if isinstance(edit, ApplyChanges):
            await self.apply_changes(edit.changes, edit.label)
        elif isinstance(edit, (AddRecord, RemoveRecord)):
            code = edit.record.get("code", "") if isinstance(edit, AddRecord) else edit.code
            answers = self.form.answers()
            clearance = edit.kind == "clearance"
            current = answers.clearances if clearance else answers.overrides
            kept = tuple(r for r in current if r.get("code") != code)
            if isinstance(edit, AddRecord):
                kept = (*kept, dict(edit.record))  # one record per code: the newest
            if clearance:
                answers = replace(answers, clearances=kept)
            else:
                answers = replace(answers, overrides=kept)
            self.form.clearances, self.form.overrides = answers.clearances, answers.overrides
            self.request_assessment(answers)
            done = "recorded" if isinstance(edit, AddRecord) else "removed"
            self.notify(f"{edit.kind.capitalize()} of {code} {done}", markup=False)

    async def apply_changes(self, changes: tuple[Change, ...], label: str = "") -> None:
        """Change the plan as a suggestion says, reload the form and re-assess."""
        knowledge, setup = self.workspace.knowledge, self.workspace.setup
        if knowledge is None or setup is None:
            return
        current = self.form.answers()

        data = apply_changes(
            knowledge, dict(build_case_data(setup.sections, current).data), changes
        )
        await self.load_answers(
            answers_from_data(setup.sections, data, today=self.workspace.date())
        )
        self.notify(f"Applied: {label or '; '.join(str(c) for c in changes)}", markup=False)
