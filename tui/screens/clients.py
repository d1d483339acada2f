"""Clients and their consultations: search, history, reopen, export, re-explain, erase.

Saved consultations are never changed: reopening one loads its case into the form, and saving
that is a new consultation that corrects it. A client's whole record can be exported (a
subject-access request) or erased on request; an erased client stays in the list as a
tombstone (who erased, when, why) with their consultations' dates, practitioners and knowledge.
"""

from __future__ import annotations

import asyncio
import tempfile
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import DataTable, Header, Input, Label, Static

from engine.errors import EngineError
from tui.keymap import KeyFooter, key
from tui.messages import RecordsLoaded
from tui.screens.prompt import PromptScreen
from tui.screens.records_flow import ClientRecordsFlow
from tui.screens.workspace import Workspace
from tui.widgets.answers import FormAnswers, answers_from_data
from tui.widgets.results import DECISIONS


def tombstone(client: Any, erasure: dict[str, str] | None) -> str:  # noqa: ANN401 - ClientRecord
    """What is left of an erased client: the erasure (who, when, why) and what was kept."""
    lines = [f"Client #{client.id} was erased on {client.erased_at}."]
    if erasure:
        lines.append(f"Erased by {erasure['by']}; reason: {erasure['reason']}")
    lines.append(
        f"Their identity and the content of {client.consultation_count} consultation(s) were "
        "removed. Kept: when each was saved, by whom, with which knowledge, and this erasure."
    )
    return "\n".join(lines)


def consultation_details(record: Any) -> str:  # noqa: ANN401 - engine.records.ConsultationRecord
    """A stored consultation in a few lines (from its stored assessment)."""
    if record.erased:
        return (
            f"#{record.id} · {record.consultation_date} · saved {record.saved_at} by "
            f"{record.practitioner} · knowledge {record.knowledge_name} "
            f"{record.knowledge_version} ({record.knowledge_hash[:12]})\n"
            f"content erased on {record.erased_at} (removed on request)"
        )
    data = record.assessment
    symbol, words, _ = DECISIONS.get(record.decision, ("·", record.decision, ""))
    lines = [
        (
            f"#{record.id} · {record.consultation_date} · {symbol} {words}"
            + (" (provisional)" if record.provisional else "")
        ),
        f"saved {record.saved_at} by {record.practitioner}",
        (
            f"knowledge {record.knowledge_name} {record.knowledge_version} "
            f"({record.knowledge_hash[:12]})"
        ),
    ]
    if record.corrects:
        lines.append(f"corrects #{record.corrects}")
    if record.note:
        lines.extend(["", "note:", record.note])
    findings = data.get("findings", []) if isinstance(data, dict) else []
    if findings:
        lines.append("")
        lines.extend(
            f"  {f.get('level', '?'):9} {f.get('code')}"
            + (" (cleared)" if f.get("cleared") else "")
            + (" (overridden)" if f.get("overridden") else "")
            for f in findings
        )
    return "\n".join(lines)


class ClientsScreen(ClientRecordsFlow):
    """Client list with search; the selected client's consultations."""

    CSS_PATH = "../styles/clients.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        key("ctrl+f", "search", "Search", "clients.search", "Search clients by name or reference"),
        key("ctrl+n", "add_client", "Add client", "clients.add", "Add a new client"),
        key(
            "c",
            "consult",
            "Consult",
            "clients.consult",
            "Start a new consultation for the highlighted client",
        ),
        key(
            "o",
            "reopen",
            "Reopen",
            "clients.reopen",
            "Reopen the highlighted consultation (saving it records a correction)",
        ),
        key(
            "x",
            "export",
            "Reports",
            "clients.export",
            "Export the highlighted consultation's reports",
        ),
        key(
            "e",
            "export_client",
            "Export client",
            "clients.export_client",
            "Export everything stored about the highlighted client (JSON, subject access)",
        ),
        key(
            "delete",
            "erase",
            "Erase client",
            "clients.erase",
            "Erase the highlighted client on request (asks who, why, and to confirm)",
        ),
        key(
            "w",
            "explain",
            "Explain",
            "clients.explain",
            "Re-assess with the knowledge it was decided with and explain the decision",
        ),
    ]

    def __init__(self, workspace: Workspace) -> None:
        super().__init__()
        self.workspace = workspace
        self.clients: dict[int, Any] = {}
        self.consultations: dict[int, Any] = {}
        self.client_id: int | None = None
        self.erasure: dict[str, str] | None = None
        """The highlighted client's erasure (who, when, why), when they were erased."""

    def compose(self) -> ComposeResult:
        """Search + clients | consultations + details."""
        yield Header()
        with Horizontal(id="clients-body"):
            with Vertical(id="client-pane"):
                yield Input(
                    placeholder="search name or reference", id="client-search", compact=True
                )
                table: DataTable[str | Text] = DataTable(id="client-table", cursor_type="row")
                yield table
            with Vertical(id="history-pane"):
                yield Label(
                    "Consultations", id="history-title", classes="results-heading", markup=False
                )
                history: DataTable[str | Text] = DataTable(id="history-table", cursor_type="row")
                yield history
                with VerticalScroll(id="history-detail-box"):
                    yield Static("", id="history-detail", markup=False)
        yield KeyFooter()

    def on_mount(self) -> None:
        """Columns, then the clients."""
        self.title = "needlewise · clients"
        self.query_one("#client-table", DataTable).add_columns("name", "ref", "visits", "last")
        self.query_one("#history-table", DataTable).add_columns(
            "#", "date", "decision", "by", "knowledge"
        )
        self.load_clients("")

    def on_screen_resume(self) -> None:
        """Refresh when coming back (a consultation may have been saved meanwhile)."""
        self.load_clients(self.query_one("#client-search", Input).value)

    # --- loading (threads) --------------------------------------------------------------
    @work(thread=True, exclusive=True, exit_on_error=False, group="clients")
    def load_clients(self, search: str) -> None:
        """Clients matching ``search``, erased ones (tombstones) last."""
        try:
            rows = tuple(self.workspace.store().clients(search, include_erased=True))
        except EngineError as exc:
            self.post_message(RecordsLoaded("clients", (), error=str(exc)))
            return
        self.post_message(RecordsLoaded("clients", rows))

    @work(thread=True, exclusive=True, exit_on_error=False, group="history")
    def load_history(self, client_id: int) -> None:
        """A client's consultations, newest first (after the erasure, for an erased client)."""
        try:
            store = self.workspace.store()
            erasure = store.erasure(client_id)
            rows = tuple(store.consultations(client_id))
        except EngineError as exc:
            self.post_message(RecordsLoaded("consultations", (), error=str(exc)))
            return
        self.post_message(RecordsLoaded("erasure", (erasure,)))
        self.post_message(RecordsLoaded("consultations", rows))

    @on(RecordsLoaded)
    def _loaded(self, event: RecordsLoaded) -> None:
        event.stop()
        if event.kind == "erased":
            self._erased(event)
        elif event.error:
            self.notify(event.error, severity="error", timeout=8, markup=False)
        elif event.kind == "clients":
            self._show_clients(event.rows)
        elif event.kind == "erasure":
            self.erasure = event.rows[0]
        elif event.kind == "consultations":
            self._show_history(event.rows)

    def _show_clients(self, rows: tuple[Any, ...]) -> None:
        table = self.query_one("#client-table", DataTable)
        keep = self.client_id
        table.clear()
        self.clients = {c.id: c for c in rows}
        for c in rows:
            last = (c.last_saved_at or "")[:10]
            name = Text(c.display_name, style="dim" if c.erased else "")
            table.add_row(name, c.reference, str(c.consultation_count), last, key=str(c.id))
        if rows:
            ids = [c.id for c in rows]
            table.move_cursor(row=ids.index(keep) if keep in ids else 0)
        else:
            self._show_history(())

    def _show_history(self, rows: tuple[Any, ...]) -> None:
        table = self.query_one("#history-table", DataTable)
        table.clear()
        self.consultations = {r.id: r for r in rows}
        for r in rows:
            symbol, words, _ = DECISIONS.get(r.decision, ("·", r.decision, ""))
            table.add_row(
                str(r.id),
                r.consultation_date,
                Text(f"{symbol} {words}"),
                Text(r.practitioner),
                Text(r.knowledge_version),
                key=str(r.id),
            )
        detail = self.query_one("#history-detail", Static)
        client = self.clients.get(self.client_id or -1)
        if client is not None and client.erased:
            detail.update(tombstone(client, self.erasure))
        else:
            detail.update("" if rows else "No consultations saved yet (c: start one).")

    @on(Input.Changed, "#client-search")
    def _search(self, event: Input.Changed) -> None:
        self.load_clients(event.value)

    @on(Input.Submitted, "#client-search")
    def _to_table(self) -> None:
        self.query_one("#client-table").focus()

    @on(DataTable.RowHighlighted, "#client-table")
    def _client_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key.value is None:
            return
        self.client_id = int(event.row_key.value)
        self.erasure = None
        client = self.clients.get(self.client_id)
        name = client.display_name if client is not None else ""
        self.query_one("#history-title", Label).update(f"Consultations of {name}")
        self.load_history(self.client_id)

    @on(DataTable.RowSelected, "#client-table")
    def _client_selected(self) -> None:
        self.query_one("#history-table").focus()

    @on(DataTable.RowHighlighted, "#history-table")
    def _consultation_highlighted(self, event: DataTable.RowHighlighted) -> None:
        record = self.consultations.get(int(event.row_key.value or 0))
        if record is None:
            return
        text = consultation_details(record)
        client = self.clients.get(record.client_id)
        if client is not None and client.erased:
            text = f"{tombstone(client, self.erasure)}\n\n{text}"
        self.query_one("#history-detail", Static).update(text)

    @on(DataTable.RowSelected, "#history-table")
    async def _consultation_selected(self) -> None:
        await self.action_reopen()

    # --- actions ----------------------------------------------------------------------
    def selected_consultation(self) -> Any:  # noqa: ANN401 - engine.records.ConsultationRecord
        """The consultation highlighted in the history (None, with a notification)."""
        table = self.query_one("#history-table", DataTable)
        if not self.consultations or table.row_count == 0:
            self.notify("Highlight a saved consultation first", severity="warning", markup=False)
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return self.consultations.get(int(key or 0))

    def highlighted_client(self) -> Any:  # noqa: ANN401 - engine.records.ClientRecord
        """The client highlighted in the list (None, with a notification, when there is none)."""
        client = self.clients.get(self.client_id or -1)
        if client is None:
            self.notify(
                "Highlight a client first (ctrl+n adds one)", severity="warning", markup=False
            )
        return client

    def action_search(self) -> None:
        """Focus the search."""
        self.query_one("#client-search", Input).focus()

    @work(exclusive=True, group="clients-dialog", exit_on_error=False)
    async def action_add_client(self) -> None:
        """Add a client (asks for the name)."""
        name = await self.app.push_screen_wait(
            PromptScreen("New client", "The client's full name:", placeholder="e.g. Alex Morgan")
        )
        if not name:
            return
        store, by = self.workspace.store(), self.workspace.practitioner or ""
        try:
            client = await asyncio.to_thread(store.add_client, name, by=by)  # the disk, not the UI
        except EngineError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        self.client_id = client.id
        self.notify(f"Client added: {client.name} (#{client.id})", markup=False)
        self.load_clients("")

    async def action_consult(self) -> None:
        """A new consultation for the highlighted client."""
        client = self.highlighted_client()
        if client is None:
            return
        if client.erased:
            self.notify("That client was erased", severity="warning", markup=False)
            return
        answers = FormAnswers(consultation_date=self.workspace.date())
        await self._open(answers, client, None)

    async def action_reopen(self) -> None:
        """Reopen the highlighted consultation in the form (saving it records a correction)."""
        record = self.selected_consultation()
        setup = self.workspace.setup
        if record is None or setup is None:
            return
        if record.erased:
            self.notify("That consultation was erased", severity="warning", markup=False)
            return
        answers = answers_from_data(setup.sections, record.case_data, today=self.workspace.date())
        await self._open(answers, self.clients.get(record.client_id), record.id)
        note = f"\nIts note: {_shorten(record.note)}" if record.note else ""
        self.notify(
            f"Reopened #{record.id}: saving records a correction of it{note}",
            timeout=8 if note else 5,
            markup=False,
        )

    async def _open(self, answers: FormAnswers, client: Any, corrects: int | None) -> None:  # noqa: ANN401
        app: Any = self.app
        await app.open_consultation(answers, client=client, corrects=corrects)

    def _erased(self, event: RecordsLoaded) -> None:
        if event.error:
            self.notify(f"Not erased: {event.error}", severity="error", timeout=8, markup=False)
            return
        self.client_id = event.rows[0]
        self.notify(
            f"Erased client #{self.client_id}: identity and consultation content removed; "
            "the tombstone and the erasure stay in the audit log",
            timeout=8,
            markup=False,
        )
        search = self.query_one("#client-search", Input)
        if search.value:
            search.value = ""  # the tombstone has no name to match: show every client
        else:
            self.load_clients("")

    def action_explain(self) -> None:
        """Re-assess with the stored knowledge snapshot and explain the decision as it was made."""
        record = self.selected_consultation()
        if record is not None and not record.erased:
            self._replay(record.id)

    @work(thread=True, exclusive=True, exit_on_error=False, group="replay")
    def _replay(self, consultation_id: int) -> None:
        try:
            # The restored knowledge is needed only while it loads: it lives on in memory.
            with tempfile.TemporaryDirectory(prefix="needlewise-snapshot-") as directory:
                replayed = self.workspace.store().reassess(consultation_id, directory)
        except EngineError as exc:
            self.app.call_from_thread(self.notify, str(exc), severity="error")
            return
        self.app.call_from_thread(self._show_replay, replayed)

    def _show_replay(self, replayed: Any) -> None:  # noqa: ANN401
        from tui.screens.explanation import ExplanationScreen  # noqa: PLC0415

        same = "the same decision" if replayed.same_decision else "a DIFFERENT decision"
        self.notify(
            f"Re-assessed #{replayed.consultation.id} with its own knowledge snapshot: {same}",
            timeout=6,
            markup=False,
        )
        self.app.push_screen(
            ExplanationScreen(
                self.workspace,
                replayed.trace,
                ("decision", ""),
                knowledge=replayed.knowledge,
                readonly=True,
            )
        )


def _shorten(text: str, limit: int = 300) -> str:
    """A long note cut for a notification (the client list shows it whole)."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
