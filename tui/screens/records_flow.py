"""Records flows: the dialogs (in order), then the store calls and file writes (in threads).

``RecordsScreen`` is the consultation screen's base: save asks for the practitioner once per
session, for the client when none is chosen and for an optional note, then appends the
consultation (a correction when this screen already saved one, or when it reopened a saved
one). Export writes the practitioner summary (Markdown and HTML) and the client handout.

``ClientRecordsFlow`` is the clients screen's base: a saved consultation's reports, a client's
subject-access export (what ``needlewise records export`` prints) and a client's erasure.
Every file written holds client data and is created with mode 0600.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import App
from textual.screen import Screen

from engine.errors import EngineError
from engine.knowledge import Knowledge
from engine.records import ClientRecord
from tui.messages import ExportFinished, RecordsLoaded
from tui.screens.client_picker import ClientPickerScreen
from tui.screens.prompt import EraseScreen, NoteScreen, PromptScreen
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
        # A file that already existed keeps its old mode through O_CREAT: narrow it before
        # any client data goes in.
        os.fchmod(handle.fileno(), REPORT_MODE)
        handle.write(text)


def write_reports(  # noqa: PLR0913 - keyword-only; each is a field of the reports
    directory: Path,
    *,
    assessment: Any,  # noqa: ANN401 - Assessment or its stored JSON
    case_data: Mapping[str, Any],
    client_name: str,
    practitioner: str,
    knowledge: Knowledge | None,
    saved_at: str | None = None,
    note: str = "",
    stem: str = "",
) -> tuple[Path, ...]:
    """The practitioner summary (.md, .html) and the client handout (.md) in ``directory``.

    ``note`` is a saved consultation's note: it goes into the summary, never the handout.
    """
    from tui.reports import client_handout, practitioner_summary, to_html  # noqa: PLC0415

    summary = practitioner_summary(
        assessment,
        case_data=case_data,
        client_name=client_name,
        practitioner=practitioner,
        knowledge=knowledge,
        saved_at=saved_at,
        note=note,
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


def write_client_export(directory: Path, client: ClientRecord, data: Mapping[str, Any]) -> Path:
    """Write ``RecordStore.export_client`` data as ``needlewise records export`` prints it.

    The file is ``<name>-client-<id>-export-<when>.json`` (``erased`` for an erased client's
    name; ``when`` is the export's UTC time, so an earlier export is not overwritten), mode 0600.
    """
    when = re.sub(r"[^0-9T]", "", str(data.get("exported_at", ""))[:19])
    name = slug(client.name) if client.name else "erased"
    path = directory.expanduser() / f"{name}-client-{client.id}-export-{when}.json"
    write_private(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    return path


def notify_export(screen: Screen[Any], event: ExportFinished) -> None:
    """Name the files written, or say why the export failed."""
    if event.error:
        screen.notify(f"Export failed: {event.error}", severity="error", timeout=8, markup=False)
    else:
        screen.notify(
            "Exported (readable by you only):\n" + "\n".join(event.paths), timeout=8, markup=False
        )


async def ask_practitioner(app: App[Any], workspace: Workspace) -> str | None:
    """The practitioner's name, asked once per session (None when the dialog is cancelled)."""
    if workspace.practitioner:
        return workspace.practitioner
    name = await app.push_screen_wait(
        PromptScreen(
            "Who are you?",
            "Your name, recorded with every consultation you save this session:",
            placeholder="e.g. J. Doe RN",
        )
    )
    if name:
        workspace.practitioner = name
    return name


def post_export(screen: Screen[None], write: Callable[[], Sequence[Path]]) -> None:
    """Run ``write`` (from a worker thread) and post what it wrote, or why it could not."""
    try:
        paths = write()
    except (OSError, ValueError, EngineError) as exc:
        screen.post_message(ExportFinished((), error=str(exc)))
        return
    screen.post_message(ExportFinished(tuple(str(p) for p in paths)))


class RecordsScreen(Screen[None]):
    """Save / export / new for a screen that holds one consultation."""

    workspace: Workspace
    client: ClientRecord | None
    corrects: int | None
    outcome: Outcome | None
    saved_id: int | None = None
    """The consultation this screen last saved (a later save corrects it)."""
    record_note: str = ""
    """The note stored with the consultation this screen last saved, or else with the one it
    reopened (shown on the screen; a new save asks for its own)."""

    def current_outcome(self) -> Outcome | None:
        """The outcome of the answers as they are (None while one is being assessed)."""
        raise NotImplementedError

    async def ask_practitioner(self) -> str | None:
        """The practitioner's name, asked once per session."""
        return await ask_practitioner(self.app, self.workspace)

    async def ask_note(self, client: ClientRecord, corrects: int | None) -> str | None:
        """The note to save (None: do not save); a correction starts from the earlier note."""
        earlier = ""
        if corrects is not None:
            earlier = await self.load_note(corrects)
        what = f"a correction of #{corrects}" if corrects is not None else "this consultation"
        return await self.app.push_screen_wait(
            NoteScreen(
                f"Save: {client.name}",
                f"A note saved with {what} (optional). A saved note is never changed: "
                "correcting the consultation saves a new one.",
                value=earlier,
            )
        )

    async def load_note(self, consultation_id: int) -> str:
        """The note stored with a saved consultation ("" when none, or unreadable)."""
        return await asyncio.to_thread(self._note_of, consultation_id)  # the disk, not the UI

    def _note_of(self, consultation_id: int) -> str:
        try:
            return str(self.workspace.store().consultation(consultation_id).note)
        except EngineError:
            return ""  # the save itself reports what is wrong with that consultation

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
        corrects = self.saved_id or self.corrects
        note = await self.ask_note(self.client, corrects)
        if note is None:
            self.notify("Not saved", severity="warning", markup=False)
            return
        self._save(outcome, knowledge, practitioner, self.client, corrects, note)

    @work(thread=True, exclusive=True, group="records", exit_on_error=False)
    def _save(
        self,
        outcome: Outcome,
        knowledge: Knowledge,
        practitioner: str,
        client: ClientRecord,
        corrects: int | None,
        note: str = "",
    ) -> None:
        assert outcome.trace is not None  # noqa: S101 - checked by the caller
        try:
            record = self.workspace.store().save_consultation(
                client.id,
                case_data=dict(outcome.built.data),
                assessment=outcome.trace.assessment,
                knowledge=knowledge,
                practitioner=practitioner,
                note=note,
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
        self.saved_id, self.record_note = record.id, record.note
        corrects = f" (corrects #{record.corrects})" if record.corrects else ""
        noted = ", with a note" if record.note else ""
        who = self.client.name if self.client is not None else "the client"
        self.notify(
            f"Saved consultation #{record.id} for {who}{corrects}{noted}: {record.decision}",
            markup=False,
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
        assessment = outcome.trace.assessment
        post_export(
            self,
            lambda: write_reports(
                directory,
                assessment=assessment,
                case_data=outcome.built.data,
                client_name=name,
                practitioner=practitioner,
                knowledge=self.workspace.knowledge,
            ),
        )

    @on(ExportFinished)
    def _exported(self, event: ExportFinished) -> None:
        event.stop()
        notify_export(self, event)

    def refresh_title(self) -> None:
        """Show the client and the record state in the title."""


class ClientRecordsFlow(Screen[None]):
    """The clients screen's base: a saved consultation's reports, a client's export and erasure.

    Each action asks in dialogs first (on the UI), then calls the store in a thread and posts
    the result: ``ExportFinished`` for files written, ``RecordsLoaded("erased")`` for an erasure.
    """

    workspace: Workspace
    clients: dict[int, Any]
    """The clients listed, by id."""

    def highlighted_client(self) -> Any:  # noqa: ANN401 - engine.records.ClientRecord
        """The client highlighted in the list (None, with a notification, when there is none)."""
        raise NotImplementedError

    def selected_consultation(self) -> Any:  # noqa: ANN401 - engine.records.ConsultationRecord
        """The consultation highlighted in the history (None, with a notification)."""
        raise NotImplementedError

    def action_export(self) -> None:
        """Export the highlighted consultation's reports as it was saved."""
        record = self.selected_consultation()
        if record is None or record.erased:
            return
        client = self.clients.get(record.client_id)
        self._export(record, client.name if client is not None else "Client")

    @work(thread=True, exclusive=True, exit_on_error=False, group="export")
    def _export(self, record: Any, name: str) -> None:  # noqa: ANN401
        def write() -> tuple[Path, ...]:
            store = self.workspace.store()
            with tempfile.TemporaryDirectory() as tmp:
                try:
                    knowledge = store.load_snapshot(record.knowledge_hash, Path(tmp))
                except EngineError:
                    knowledge = None  # titles fall back to ids
                return write_reports(
                    default_export_dir(),
                    assessment=record.assessment,
                    case_data=record.case_data,
                    client_name=name,
                    practitioner=record.practitioner,
                    knowledge=knowledge,
                    saved_at=record.saved_at,
                    note=record.note,
                    stem=f"{slug(name)}-{record.consultation_date}-c{record.id}",
                )

        post_export(self, write)

    @on(ExportFinished)
    def _exported(self, event: ExportFinished) -> None:
        event.stop()
        notify_export(self, event)

    @work(exclusive=True, group="clients-dialog", exit_on_error=False)
    async def action_export_client(self) -> None:
        """Export everything stored about the highlighted client (asks who and where)."""
        client = self.highlighted_client()
        if client is None:
            return
        by = await ask_practitioner(self.app, self.workspace)
        if not by:
            return
        directory = await self.app.push_screen_wait(
            PromptScreen(
                f"Export the records of {client.display_name}",
                "Everything stored about the client (identity, every consultation with its case "
                "and assessment, the audit events), as JSON. The export is audited. Directory "
                "(the file is readable by you only):",
                value=str(default_export_dir()),
            )
        )
        if directory:
            self._export_client(client, Path(directory), by)

    @work(thread=True, exclusive=True, exit_on_error=False, group="client-export")
    def _export_client(self, client: Any, directory: Path, by: str) -> None:  # noqa: ANN401
        try:
            data = self.workspace.store().export_client(client.id, by=by)
            path = write_client_export(directory, client, data)
        except (OSError, ValueError, EngineError) as exc:
            self.post_message(ExportFinished((), error=str(exc)))
            return
        self.post_message(ExportFinished((str(path),)))

    @work(exclusive=True, group="clients-dialog", exit_on_error=False)
    async def action_erase(self) -> None:
        """Erase the highlighted client on request, after the confirmation dialog."""
        client = self.highlighted_client()
        if client is None:
            return
        if client.erased:
            self.notify(
                f"Client #{client.id} was already erased on {client.erased_at}",
                severity="warning",
                markup=False,
            )
            return
        request = await self.app.push_screen_wait(
            EraseScreen(client, by=self.workspace.practitioner or "")
        )
        if request is None:
            self.notify("Not erased", markup=False)
            return
        self._erase(client.id, request.by, request.reason)

    @work(thread=True, exclusive=True, exit_on_error=False, group="erase")
    def _erase(self, client_id: int, by: str, reason: str) -> None:
        try:
            self.workspace.store().erase_client(client_id, by=by, reason=reason)
        except EngineError as exc:
            self.post_message(RecordsLoaded("erased", (), error=str(exc)))
            return
        self.post_message(RecordsLoaded("erased", (client_id,)))
