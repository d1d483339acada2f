"""The needlewise terminal app: ExpertApp and the ``make_app`` factory (CLI and tests share it).

The knowledge is loaded and compiled once, off the UI thread, and watched: a change to any of
its files reloads it; if the new knowledge has errors they are shown (file:line) and the last
good knowledge stays in use.
"""

from __future__ import annotations

import datetime as dt
import gc
import os
import time
from collections.abc import Iterable
from functools import partial
from importlib import import_module
from pathlib import Path
from typing import ClassVar

from rich.console import RenderableType
from textual import on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import BindingType
from textual.screen import Screen
from textual.signal import Signal
from textual.widgets import Footer, Header, Static
from textual.worker import Worker, WorkerState

from engine.assessment import Assessor
from engine.compile import compile_knowledge
from engine.errors import EngineError, KnowledgeError
from engine.knowledge import load_knowledge
from engine.records import ClientRecord
from knowledge import DEFAULT_KNOWLEDGE
from tui.keymap import find_keymap, key, load_keymap
from tui.messages import KnowledgeFailed, KnowledgeLoaded
from tui.screens.commands import NeedlewiseCommands
from tui.screens.workspace import Workspace, knowledge_stamp
from tui.widgets.answers import FormAnswers
from tui.widgets.fields import Helpable
from tui.widgets.intake_model import build_setup

POLL_SECONDS = 1.0
"""How often the knowledge directory's files are checked for changes."""
SHOWN_PROBLEMS = 4
GC_RESUME_SECONDS = 0.5
"""After the first screen, when the start-up's garbage is collected (see ``_resume_gc``)."""
"""Knowledge problems listed in the notification (the knowledge browser lists them all)."""


class ExpertApp(App[None]):
    """Microneedling treatment planning: decision support, not diagnosis."""

    CSS_PATH = "styles/app.tcss"
    TITLE = "needlewise"
    SUB_TITLE = "decision support, not diagnosis"
    COMMANDS: ClassVar = App.COMMANDS | {NeedlewiseCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        key("f1", "help", "Help", "app.help", "Help for the focused question and the keys"),
        key("f2", "mode('consultation')", "Consult", "app.consultation", "Intake and assessment"),
        key("f3", "mode('clients')", "Clients", "app.clients", "Clients and their consultations"),
        key("f4", "mode('knowledge')", "Knowledge", "app.knowledge", "Rules, codes and sources"),
        key(
            "ctrl+r", "reload_knowledge", "Reload", "app.reload", "Reload the knowledge", show=False
        ),
        key("ctrl+q", "quit", "Quit", "app.quit", "Quit needlewise", priority=True),
    ]

    def __init__(
        self,
        workspace: Workspace,
        *,
        keymap_path: Path | None = None,
        watch: bool = True,
    ) -> None:
        super().__init__()
        self.workspace = workspace
        self.keymap_path = keymap_path
        self.watch_knowledge = watch
        self.knowledge_signal: Signal[None] = Signal(self, "knowledge-changed")
        """Published after a successful reload; screens subscribe to re-assess."""
        self._loading = False
        self.start_ms: float | None = None
        self.startup: dict[str, float] = {"app created": time.perf_counter()}
        """Start-up marks (``time.perf_counter()``); see ``tui.cli.write_startup_report``."""
        self.gc_paused = False
        """The cyclic GC is off for the start-up (``tui.cli.run_app``); it is resumed shortly
        after the first consultation is up (or the knowledge failed): collect, freeze, enable."""
        self._gc_resuming = False

    def compose(self) -> ComposeResult:
        """The screen shown while the knowledge loads."""
        yield Header()
        yield Static(
            f"Loading knowledge from {self.workspace.knowledge_dir} …", id="loading", markup=False
        )
        yield Footer()

    def on_mount(self) -> None:
        """Apply the user keymap, load the knowledge, watch it."""
        keymap = load_keymap(find_keymap(self.keymap_path))
        if keymap.keys:
            self.set_keymap(keymap.keys)
        for problem in keymap.problems:
            self.notify(problem, severity="warning", timeout=8, markup=False)
        self._loading = True
        self._load(initial=True)
        if self.watch_knowledge:
            self.set_interval(POLL_SECONDS, self.check_knowledge)
        self.startup["app mounted"] = time.perf_counter()
        if os.environ.get("NEEDLEWISE_STARTUP_REPORT"):  # bench/tui.py: timings, then exit
            from tui.cli import report_when_interactive  # noqa: PLC0415

            self.set_interval(0.005, lambda: report_when_interactive(self))

    # --- knowledge: load, watch, reload ------------------------------------------------
    @work(thread=True, exclusive=True, exit_on_error=False, group="knowledge")
    def _load(self, *, initial: bool) -> None:
        root = self.workspace.knowledge_dir
        stamp = knowledge_stamp(root)
        marks: dict[str, float] = {}
        try:
            knowledge = load_knowledge(root)
            marks["knowledge loaded"] = time.perf_counter()
            assessor = Assessor(compile_knowledge(knowledge))
            _ = assessor.engine  # register the durable ruleset now, not on the first keystroke
            marks["compiled, engine ready"] = time.perf_counter()
            setup = build_setup(assessor.knowledge)
            marks["form setup built"] = time.perf_counter()
        except KnowledgeError as exc:
            self.post_message(KnowledgeFailed(exc.problems, stamp))
            return
        except EngineError as exc:
            self.post_message(KnowledgeFailed((), stamp, message=f"{type(exc).__name__}: {exc}"))
            return
        if initial:
            self.startup.update(marks)
        warnings = len(assessor.knowledge.warnings)
        self.post_message(KnowledgeLoaded(assessor, setup, stamp, warnings))

    def check_knowledge(self) -> None:
        """Reload when any file of the knowledge directory changed since the last load."""
        if not self._loading:
            self._poll()

    @work(thread=True, exclusive=True, exit_on_error=False, group="watch")
    def _poll(self) -> None:
        """Compare the files' mtimes and sizes with the last load's (off the UI thread)."""
        if knowledge_stamp(self.workspace.knowledge_dir) != self.workspace.stamp:
            self.call_from_thread(self._changed_on_disk)

    def _changed_on_disk(self) -> None:
        if not self._loading:
            self.action_reload_knowledge()

    def action_reload_knowledge(self) -> None:
        """Reload the knowledge now."""
        self._loading = True
        self._load(initial=False)

    @on(KnowledgeLoaded)
    async def _on_loaded(self, event: KnowledgeLoaded) -> None:
        self._loading = False
        ws = self.workspace
        first = ws.assessor is None
        old = ws.assessor
        ws.assessor, ws.setup, ws.stamp, ws.problems = event.assessor, event.setup, event.stamp, ()
        if old is not None:
            old.close()
        k = event.assessor.knowledge
        if first:
            self._install_modes()
            await self.switch_mode("consultation")
            self.startup["consultation mounted"] = time.perf_counter()
            self._resume_gc()
            if ws.demo:
                self._seed_demo()
            return
        self.notify(
            f"Knowledge reloaded: {k.name} {k.version} ({k.hash[:12]})", timeout=4, markup=False
        )
        self.knowledge_signal.publish(None)

    @on(KnowledgeFailed)
    def _on_failed(self, event: KnowledgeFailed) -> None:
        self._loading = False
        self._resume_gc()
        ws = self.workspace
        ws.stamp, ws.problems = event.stamp, event.problems
        errors = [p for p in event.problems if p.severity == "error"]
        lines = [p.format().splitlines()[0] for p in errors[:SHOWN_PROBLEMS]]
        if event.message:
            lines.insert(0, event.message)
        hidden = len(errors) - SHOWN_PROBLEMS
        more = f"\n… and {hidden} more (F4: Knowledge > Problems)" if hidden > 0 else ""
        kept = "the last good knowledge stays in use" if ws.assessor else "no knowledge loaded"
        self.notify(
            "\n".join(lines) + more + f"\n({kept})",
            title=f"Knowledge has {len(errors) or 1} error(s)",
            severity="error",
            timeout=12,
            markup=False,
        )
        loading = self.query("#loading")
        if ws.assessor is None and loading:
            text = "\n".join(p.format() for p in event.problems) or event.message
            loading.first(Static).update(
                f"The knowledge in {ws.knowledge_dir} has errors; "
                f"fix them and it reloads:\n\n{text}"
            )

    @work(thread=True, exclusive=True, exit_on_error=False, group="demo")
    def _seed_demo(self) -> None:
        from tui.demo import seed  # noqa: PLC0415 - only for --demo

        ws = self.workspace
        if ws.assessor is None:
            return
        try:
            saved = seed(ws.store(), ws.assessor, today=ws.today)
        except EngineError as exc:
            self.call_from_thread(self.notify, f"Demo data: {exc}", severity="error")
            return
        where = ws.db_path or "the demo database"
        text = f"Demo: {saved} sample consultations in {where} (F3: Clients)" if saved else ""
        if text:
            self.call_from_thread(self.notify, text, timeout=6)

    def _resume_gc(self) -> None:
        if self.gc_paused and not self._gc_resuming:
            # Once the first screen is painted: one full collection reclaims start-up's cyclic
            # garbage, then the survivors are frozen so later collections need not scan them.
            self._gc_resuming = True
            self.set_timer(GC_RESUME_SECONDS, self._end_gc_pause)

    def exit(
        self,
        result: None = None,
        return_code: int = 0,
        message: RenderableType | None = None,
    ) -> None:
        """Exit the app; a start-up GC pause still pending ends now."""
        self._end_gc_pause()
        super().exit(result, return_code, message)

    def _end_gc_pause(self) -> None:
        if self.gc_paused:
            gc.collect()
            gc.freeze()
            gc.enable()
            self.gc_paused = False

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A load that failed unexpectedly (not with problems) is reported; polling goes on."""
        worker = event.worker
        if worker.group == "knowledge" and event.state is WorkerState.ERROR:
            self._loading = False
            self._resume_gc()
            self.notify(
                f"{type(worker.error).__name__}: {worker.error}",
                title="The knowledge could not be loaded",
                severity="error",
                timeout=12,
                markup=False,
            )

    def _install_modes(self) -> None:
        for mode, name in (
            ("consultation", "ConsultationScreen"),
            ("clients", "ClientsScreen"),
            ("knowledge", "KnowledgeScreen"),
        ):
            self.add_mode(mode, partial(_mode_screen, mode, name, self.workspace))

    # --- actions ----------------------------------------------------------------------------
    async def action_mode(self, mode: str) -> None:
        """Switch to a mode (consultation, clients, knowledge) once the knowledge is loaded."""
        if self.workspace.assessor is None:
            self.notify("The knowledge is not loaded yet", severity="warning", markup=False)
            return
        await self.switch_mode(mode)

    def action_help(self) -> None:
        """F1: the help screen, starting with the focused question's help."""
        from tui.screens.help import HelpScreen  # noqa: PLC0415

        if isinstance(self.screen, HelpScreen):
            return
        focused: object = self.focused
        topic = focused.help_text if isinstance(focused, Helpable) else ""
        self.push_screen(HelpScreen(topic))

    async def open_consultation(
        self,
        answers: FormAnswers,
        *,
        client: ClientRecord | None,
        corrects: int | None,
    ) -> None:
        """Show a consultation for a client in the consultation screen (new or reopened)."""
        from tui.screens.consultation import ConsultationScreen  # noqa: PLC0415

        await self.switch_mode("consultation")
        while len(self.screen_stack) > 1 and not isinstance(self.screen, ConsultationScreen):
            self.pop_screen()
        screen = self.screen
        if isinstance(screen, ConsultationScreen):
            await screen.open_consultation(answers, client=client, corrects=corrects)

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """Textual's own commands plus the ones that are not in the needlewise provider."""
        yield from super().get_system_commands(screen)
        yield SystemCommand(
            "Reload knowledge", "Reload the knowledge now", self.action_reload_knowledge
        )

    def on_unmount(self) -> None:
        """Free the engine and close the store."""
        self.workspace.close()


def _mode_screen(module: str, name: str, workspace: Workspace) -> Screen[object]:
    """A mode's screen; its module is imported when first opened, not during start-up."""
    screen: Screen[object] = getattr(import_module(f"tui.screens.{module}"), name)(workspace)
    return screen


def make_app(
    knowledge_dir: Path | str = DEFAULT_KNOWLEDGE,
    db_path: Path | str | None = None,
    *,
    today: dt.date | None = None,
    keymap_path: Path | None = None,
    watch: bool = True,
    demo: bool = False,
) -> ExpertApp:
    """The app on a knowledge directory and a records database (the CLI and tests use this).

    Args:
        knowledge_dir: the knowledge to decide with (watched; reloaded on change).
        db_path: the records database (default: ``engine.records.default_db_path()``).
        today: a fixed consultation date (tests, screenshots).
        keymap_path: a keymap file (default: the user's, see ``tui/keymap.py``).
        watch: poll the knowledge directory for changes.
        demo: seed ``db_path`` with sample clients and consultations when it has none.
    """
    workspace = Workspace(
        knowledge_dir=Path(knowledge_dir),
        db_path=Path(db_path) if db_path is not None else None,
        today=today,
        demo=demo,
    )
    return ExpertApp(workspace, keymap_path=keymap_path, watch=watch)
