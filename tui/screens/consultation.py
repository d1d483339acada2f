"""The consultation: the intake form on the left, the live assessment on the right.

Every change re-assesses in a worker (``@work(thread=True, exclusive=True)``); the result comes
back as an ``AssessmentFinished`` message and is handed down to the results panel and the form.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal
from textual.signal import Signal
from textual.widgets import Header, Static
from textual.worker import Worker, WorkerState, get_current_worker

from engine.records import ClientRecord
from engine.whatif import shift_days
from tui.keymap import KeyFooter, key
from tui.messages import AssessmentFinished, IntakeChanged, ShiftDate
from tui.screens.explain_flow import ExplainFlow
from tui.screens.workspace import Outcome, Workspace, assess_answers, notes_for, session_note
from tui.widgets.answers import FormAnswers, answers_from_data, build_case_data
from tui.widgets.entries import EntryList
from tui.widgets.intake_form import IntakeForm, controls_of
from tui.widgets.results import DecisionBanner, FindingsTable, ResultsPanel

if TYPE_CHECKING:
    from engine.assessment import Trace
    from engine.result import Assessment


def note_line(note: str, consultation_id: int | None) -> str:
    """A saved consultation's note on one line ("" for none); the screen cuts a long one."""
    text = " / ".join(" ".join(line.split()) for line in note.splitlines() if line.strip())
    return f"Note of #{consultation_id}: {text}" if text and consultation_id else ""


class ConsultationScreen(ExplainFlow):
    """Plan a treatment: answer the intake, see every flag as you type."""

    CSS_PATH = "../styles/consultation.tcss"
    AUTO_FOCUS = "#form AnswerInput, #form AnswerSelect"
    BINDINGS: ClassVar[list[BindingType]] = [
        key(
            "ctrl+s",
            "save",
            "Save",
            "consultation.save",
            "Save this consultation to the client's record",
        ),
        key(
            "ctrl+o",
            "export",
            "Export",
            "consultation.export",
            "Export the practitioner summary and the client handout",
        ),
        key("ctrl+n", "new", "New", "consultation.new", "Start a new, empty consultation"),
        key(
            "f5",
            "explain_decision",
            "Why?",
            "consultation.explain",
            "Explain how the decision was reached",
        ),
        key(
            "f6",
            "why_not",
            "Why not",
            "consultation.why_not",
            "Ask why a finding code was not raised",
        ),
        key(
            "f7",
            "suggest",
            "Suggest",
            "consultation.suggest",
            "Verified plan changes that remove or lower findings",
        ),
        # f8 and ctrl+t are shown by the question or the list holding the focus (fields.py,
        # entries.py), where they apply; here they only explain why nothing happens elsewhere.
        key(
            "f8",
            "why_asked",
            "Asked",
            "consultation.why_asked",
            "Why the focused question is asked",
            show=False,
        ),
        key(
            "f9",
            "switch_pane",
            "Pane",
            "consultation.switch_pane",
            "Move focus between the form and the results",
        ),
        key(
            "ctrl+l",
            "zoom",
            "Zoom",
            "consultation.zoom",
            "Show only the focused pane (form or results); again for both",
        ),
        key(
            "ctrl+t",
            "add_entry",
            "Add entry",
            "consultation.add_entry",
            "Add an entry to the focused list (medications, areas...)",
            show=False,
        ),
    ]

    def __init__(
        self,
        workspace: Workspace,
        *,
        answers: FormAnswers | None = None,
        client: ClientRecord | None = None,
        corrects: int | None = None,
    ) -> None:
        super().__init__()
        self.workspace = workspace
        self.client = client
        """The client this consultation is for (None until chosen, at the latest on save)."""
        self.corrects = corrects
        """The saved consultation this one corrects (a reopened one), if any."""
        self.initial = answers or FormAnswers(consultation_date=workspace.date())
        self.generation = 0
        self.outcome: Outcome | None = None
        """The last outcome shown (its trace is the last valid assessment)."""
        self.outcome_generation = -1
        self._requested: FormAnswers | None = None
        self.last_trace: Trace | None = None
        self.saved_generation: int | None = None
        self._started = 0.0
        self.latencies: list[float] = []
        """Change -> results painted on screen, in ms (bench/tui.py reads it)."""
        self.painted_at: list[float] = []
        """``time.perf_counter()`` when each assessment's results were painted."""
        self.session_date: dt.date = self.initial.consultation_date
        """The consultation date of the answers on screen (shown in the title when not today)."""

    # --- layout -------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        """Header, decision banner, the saved note (if any), form | results, footer."""
        setup = self.workspace.setup
        assert setup is not None  # noqa: S101 - the app opens this screen once knowledge loaded
        yield Header()
        yield DecisionBanner("Assessing…", id="banner", markup=False)
        yield Static("", id="record-note", markup=False)
        with Horizontal(id="panes"):
            yield IntakeForm(setup, self.initial, id="form")
            yield ResultsPanel(id="results")
        yield KeyFooter()

    def on_mount(self) -> None:
        """Title, then the first assessment; re-assess whenever the knowledge reloads."""
        self._set_title()
        signal: Signal[None] | None = getattr(self.app, "knowledge_signal", None)
        if signal is not None:
            signal.subscribe(self, self.knowledge_changed)
        self.call_after_refresh(self.reassess)

    def _set_title(self) -> None:
        who = getattr(self.client, "name", None) or "no client chosen"
        self.title = "needlewise · consultation"
        k = self.workspace.knowledge
        kn = f" · knowledge {k.name} {k.version}" if k is not None else ""
        extra = f" · corrects #{self.corrects}" if self.corrects else ""
        if self.saved_id:
            extra += f" · saved #{self.saved_id}"
        # A session planned for another day (an applied wait) says so first: it is what the
        # findings were decided for.
        when = session_note(self.session_date, self.workspace.date())
        self.sub_title = f"{when + ' · ' if when else ''}{who}{extra}{kn}"
        self._show_note()

    def _show_note(self) -> None:
        """Show the note of the consultation saved or reopened here, on one line.

        The whole note is the line's tooltip, and in the clients screen's details.
        """
        line = self.query_one("#record-note", Static)
        text = note_line(self.record_note, self.saved_id or self.corrects)
        line.update(text)
        line.tooltip = self.record_note or None
        line.set_class(bool(text), "-shown")

    @property
    def form(self) -> IntakeForm:
        """The intake form."""
        return self.query_one(IntakeForm)

    @property
    def results(self) -> ResultsPanel:
        """The results panel."""
        return self.query_one(ResultsPanel)

    @property
    def assessment(self) -> Assessment | None:
        """The last valid assessment shown."""
        return self.last_trace.assessment if self.last_trace is not None else None

    # --- assessing ------------------------------------------------------------------------
    def reassess(self) -> None:
        """Assess the answers as they stand now."""
        answers = self.form.answers()
        self.form._posted = answers  # noqa: SLF001 - the form need not announce them again
        self.request_assessment(answers)

    @on(IntakeChanged)
    def _on_intake(self, event: IntakeChanged) -> None:
        event.stop()
        self.request_assessment(event.answers)

    def request_assessment(self, answers: FormAnswers, *, force: bool = False) -> None:
        """Start an assessment of ``answers`` (a newer one supersedes it).

        The same answers are not assessed twice unless ``force`` (a knowledge reload).
        """
        if answers == self._requested and not force:
            return
        self._requested = answers
        self.generation += 1
        self._started = time.perf_counter()
        self._assess(self.generation, answers)

    @work(thread=True, exclusive=True, exit_on_error=False, group="assess")
    def _assess(self, generation: int, answers: FormAnswers) -> None:
        assessor, setup = self.workspace.assessor, self.workspace.setup
        if assessor is None or setup is None:
            return
        outcome = assess_answers(assessor, setup, answers)
        if not get_current_worker().is_cancelled:
            self.post_message(AssessmentFinished(generation, outcome))

    @on(AssessmentFinished)
    def _on_assessed(self, event: AssessmentFinished) -> None:
        event.stop()
        if event.generation != self.generation:
            return  # a newer change is being assessed
        outcome = event.outcome
        self.outcome = outcome
        self.outcome_generation = event.generation
        self.form.built = outcome.built
        if outcome.trace is not None:
            self.last_trace = outcome.trace
        if self._requested is not None and self._requested.consultation_date != self.session_date:
            self.session_date = self._requested.consultation_date
            self._set_title()
        banner = self.query_one(DecisionBanner)
        banner.show(
            outcome.trace.assessment if outcome.trace is not None else None,
            problems=len(outcome.problems),
            error=outcome.error,
            stale=bool(outcome.problems),
        )
        self.results.show(outcome.trace.assessment if outcome.trace else None, outcome.problems)
        self.form.annotate(notes_for(outcome))
        self.call_after_refresh(self._painted, self._started)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """An assessment that failed unexpectedly is shown, never swallowed."""
        worker = event.worker
        if worker.group == "assess" and event.state is WorkerState.ERROR:
            error = f"{type(worker.error).__name__}: {worker.error}"
            self.query_one(DecisionBanner).show(None, error=error)

    def _painted(self, started: float) -> None:
        """The results of a change are on screen: record when, and how long that took."""
        now = time.perf_counter()
        self.painted_at.append(now)
        self.latencies.append((now - started) * 1000)

    def action_switch_pane(self) -> None:
        """Focus the results when in the form, and the form when in the results."""
        focused = self.focused
        if focused is not None and self.results in focused.ancestors_with_self:
            first = next((c for c in controls_of(self.form) if c.display), None)
            if first is not None:
                first.focus()
            return
        self.query_one(FindingsTable).focus()

    def action_zoom(self) -> None:
        """Give the whole width to the focused pane (or back to both)."""
        if self.has_class("-zoom-form") or self.has_class("-zoom-results"):
            self.remove_class("-zoom-form", "-zoom-results")
            return
        focused = self.focused
        in_results = focused is not None and self.results in focused.ancestors_with_self
        self.add_class("-zoom-results" if in_results else "-zoom-form")

    async def action_add_entry(self) -> None:
        """Add an entry to the list holding the focus."""
        lst = self.form.list_of(self.focused)
        if lst is None:
            self.notify("Focus a list (conditions, medications, areas...) first", markup=False)
            return
        await self.form.add_row(lst.section.source)

    async def load_answers(self, answers: FormAnswers) -> None:
        """Replace the form's answers (a reopened consultation, an applied suggestion)."""
        form = self.form
        form.initial = answers
        form.clearances, form.overrides = answers.clearances, answers.overrides
        form._serial = 1 + max((s for a in answers.lists.values() for s, _ in a.rows), default=-1)  # noqa: SLF001
        await form.recompose()
        self.request_assessment(form.answers(), force=True)  # new widgets: notes to redraw

    async def knowledge_changed(self, _: None = None) -> None:
        """The knowledge was reloaded: rebuild the form if its questions changed; re-assess."""
        setup = self.workspace.setup
        if setup is None:
            return
        answers = self.form.answers()
        if setup.signature != self.form.setup.signature:
            self.form.setup = setup
            await self.load_answers(answers)
        else:
            self.request_assessment(answers, force=True)
        self._set_title()

    # --- edits from the explanation screens ----------------------------------------------
    async def apply_edit(self, edit: object) -> None:
        """Apply what an explanation screen returned (a wait plans the session for its end)."""
        if isinstance(edit, ShiftDate):
            await self.shift_date(dt.date.fromisoformat(edit.until), edit.label)
            return
        await super().apply_edit(edit)

    async def shift_date(self, until: dt.date, label: str = "") -> None:
        """Plan the session for ``until``: the date moves and every "days ago" answer with it."""
        knowledge, setup = self.workspace.knowledge, self.workspace.setup
        if knowledge is None or setup is None:
            return
        current = self.form.answers()
        days = (until - current.consultation_date).days
        data = shift_days(knowledge, dict(build_case_data(setup.sections, current).data), days)
        await self.load_answers(answers_from_data(setup.sections, data, today=until))
        self.session_date = until
        self._set_title()
        self.notify(
            f"Session planned for {until.isoformat()} ({days:+d} days): the consultation date and "
            f"every 'days ago' answer moved{f' ({label})' if label else ''}",
            timeout=8,
            markup=False,
        )

    # --- records (save and export live in RecordsScreen) --------------------------------
    def current_outcome(self) -> Outcome | None:
        """The outcome of the answers as they are now (None while one is being assessed)."""
        if self.outcome is None or self.outcome_generation != self.generation:
            return None
        return self.outcome

    def refresh_title(self) -> None:
        """Show the client and the record state in the title."""
        self._set_title()

    async def action_new(self) -> None:
        """Start a new, empty consultation (choose the client again on save)."""
        self.client, self.corrects, self.saved_id = None, None, None
        self.record_note = ""
        self.last_trace = None
        await self.load_answers(FormAnswers(consultation_date=self.workspace.date()))
        self._set_title()
        self.notify("New consultation", markup=False)

    async def open_consultation(
        self,
        answers: FormAnswers,
        *,
        client: ClientRecord | None,
        corrects: int | None,
    ) -> None:
        """Show a consultation (reopened or new) for a client, with a reopened one's note."""
        self.client, self.corrects, self.saved_id = client, corrects, None
        self.record_note = await self.load_note(corrects) if corrects is not None else ""
        self.last_trace = None
        await self.load_answers(answers)
        self._set_title()

    def focus_entry_list(self, source: str) -> EntryList | None:
        """Focus the status of a list question (palette: 'Go to medications')."""
        found = [lst for lst in self.form.query(EntryList) if lst.section.source == source]
        if not found:
            return None
        found[0].status_select.focus()
        found[0].scroll_visible()
        return found[0]
