"""Saving and exporting a consultation: the dialogs (in order) and the store calls (in threads).

``RecordsScreen`` is the consultation screen's base: save asks for the practitioner once per
session and for the client when none is chosen, then appends the consultation (a correction
when this screen already saved one, or when it reopened a saved one). Export writes the
practitioner summary (Markdown and HTML) and the client handout with file mode 0600.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from textual import on, work
from textual.screen import Screen

from engine.errors import EngineError
from engine.knowledge import Knowledge
from engine.records import ClientRecord
from tui.messages import ExportFinished, RecordsLoaded
from tui.screens.client_picker import ClientPickerScreen
from tui.screens.prompt import PromptScreen
from tui.screens.workspace import Outcome, Workspace

REPORT_MODE = 0o600
"""Reports hold health data: readable by their owner only."""


def slug(text: str) -> str:
    """A file-name-safe form of a name."""
    cleaned = re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()
    return cleaned or "consultation"


def write_private(path: Path, text: str) -> None:
    """Write a file readable by its owner only (created 0600, never wider)."""
    path = path.expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, REPORT_MODE)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    path.chmod(REPORT_MODE)


def write_reports(
    directory: Path,
    *,
    assessment: Any,  # noqa: ANN401 - Assessment or its stored JSON
    case_data: Mapping[str, Any],
    client_name: str,
    practitioner: str,
    knowledge: Knowledge | None,
    saved_at: str | None = None,
    stem: str = "",
) -> tuple[Path, ...]:
    """The practitioner summary (.md, .html) and the client handout (.md) in ``directory``."""
    from tui.reports import client_handout, practitioner_summary, to_html  # noqa: PLC0415

    summary = practitioner_summary(
        assessment,
        case_data=case_data,
        client_name=client_name,
        practitioner=practitioner,
        knowledge=knowledge,
        saved_at=saved_at,
    )
    handout = client_handout(assessment, client_name=client_name)
    date = str(case_data.get("consultation_date", ""))[:10]
    base = stem or f"{slug(client_name)}-{date}".strip("-")
    paths = (
        directory / f"{base}-summary.md",
        directory / f"{base}-summary.html",
        directory / f"{base}-handout.md",
    )
    write_private(paths[0], summary)
    write_private(paths[1], to_html(summary, f"Consultation summary: {client_name}"))
    write_private(paths[2], handout)
    return paths


def default_export_dir() -> Path:
    """``$NEEDLEWISE_EXPORT_DIR`` or ``./needlewise-exports``."""
    return Path(os.environ.get("NEEDLEWISE_EXPORT_DIR") or "needlewise-exports")


class RecordsScreen(Screen[None]):
    """Save / export / new for a screen that holds one consultation."""

    workspace: Workspace
    client: ClientRecord | None
    corrects: int | None
    outcome: Outcome | None
    saved_id: int | None = None
    """The consultation this screen last saved (a later save corrects it)."""

    def current_outcome(self) -> Outcome | None:
        """The outcome of the answers as they are (None while one is being assessed)."""
        raise NotImplementedError

    async def ask_practitioner(self) -> str | None:
        """The practitioner's name, asked once per session."""
        if self.workspace.practitioner:
            return self.workspace.practitioner
        name = await self.app.push_screen_wait(
            PromptScreen(
                "Who are you?",
                "Your name, recorded with every consultation you save this session:",
                placeholder="e.g. J. Doe RN",
            )
        )
        if name:
            self.workspace.practitioner = name
        return name

    @work(exclusive=True, group="records-dialog", exit_on_error=False)
    async def action_save(self) -> None:
        """Save to the client's record (asks for the practitioner and the client once)."""
        outcome = self.current_outcome()
        knowledge = self.workspace.knowledge
        if outcome is None or outcome.trace is None or knowledge is None:
            self.notify(
                "Wait for the assessment to finish, then save", severity="warning", markup=False
            )
            return
        if outcome.problems:
            self.notify(
                f"{len(outcome.problems)} answer(s) need fixing before saving (marked ✖)",
                severity="error",
                markup=False,
            )
            return
        practitioner = await self.ask_practitioner()
        if not practitioner:
            return
        if self.client is None:
            client = await self.app.push_screen_wait(ClientPickerScreen(self.workspace))
            if client is None:
                return
            self.client = client
            self.refresh_title()
        self._save(outcome, knowledge, practitioner, self.client, self.saved_id or self.corrects)

    @work(thread=True, exclusive=True, group="records", exit_on_error=False)
    def _save(
        self,
        outcome: Outcome,
        knowledge: Knowledge,
        practitioner: str,
        client: ClientRecord,
        corrects: int | None,
    ) -> None:
        assert outcome.trace is not None  # noqa: S101 - checked by the caller
        try:
            record = self.workspace.store().save_consultation(
                client.id,
                case_data=dict(outcome.built.data),
                assessment=outcome.trace.assessment,
                knowledge=knowledge,
                practitioner=practitioner,
                corrects=corrects,
            )
        except EngineError as exc:
            self.post_message(RecordsLoaded("saved", (), error=str(exc)))
            return
        self.post_message(RecordsLoaded("saved", (record,)))

    @on(RecordsLoaded)
    def _records_result(self, event: RecordsLoaded) -> None:
        if event.kind != "saved":
            return
        event.stop()
        if event.error:
            self.notify(f"Not saved: {event.error}", severity="error", timeout=8, markup=False)
            return
        record = event.rows[0]
        self.saved_id = record.id
        corrects = f" (corrects #{record.corrects})" if record.corrects else ""
        who = self.client.name if self.client is not None else "the client"
        self.notify(
            f"Saved consultation #{record.id} for {who}{corrects}: {record.decision}", markup=False
        )
        self.refresh_title()

    @work(exclusive=True, group="records-dialog", exit_on_error=False)
    async def action_export(self) -> None:
        """Export this consultation's reports (asks for the directory)."""
        outcome = self.current_outcome()
        if outcome is None or outcome.trace is None:
            self.notify("Nothing assessed to export yet", severity="warning", markup=False)
            return
        if outcome.problems:
            self.notify("Fix the answers marked ✖ before exporting", severity="error", markup=False)
            return
        practitioner = await self.ask_practitioner()
        if not practitioner:
            return
        directory = await self.app.push_screen_wait(
            PromptScreen(
                "Export reports",
                "Directory for the practitioner summary (Markdown + HTML) and the client "
                "handout (files are readable by you only):",
                value=str(default_export_dir()),
            )
        )
        if not directory:
            return
        name = getattr(self.client, "name", "") or "Client"
        self._export(Path(directory), outcome, practitioner, name)

    @work(thread=True, exclusive=True, group="export", exit_on_error=False)
    def _export(self, directory: Path, outcome: Outcome, practitioner: str, name: str) -> None:
        assert outcome.trace is not None  # noqa: S101 - checked by the caller
        try:
            paths = write_reports(
                directory,
                assessment=outcome.trace.assessment,
                case_data=outcome.built.data,
                client_name=name,
                practitioner=practitioner,
                knowledge=self.workspace.knowledge,
            )
        except (OSError, ValueError, EngineError) as exc:
            self.post_message(ExportFinished((), error=str(exc)))
            return
        self.post_message(ExportFinished(tuple(str(p) for p in paths)))

    @on(ExportFinished)
    def _exported(self, event: ExportFinished) -> None:
        event.stop()
        if event.error:
            self.notify(f"Export failed: {event.error}", severity="error", timeout=8, markup=False)
            return
        self.notify("Exported:\n" + "\n".join(event.paths), timeout=8, markup=False)

    def refresh_title(self) -> None:
        """Show the client and the record state in the title."""
