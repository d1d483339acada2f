"""Records flows of the TUI: a note on save, a client's erasure and a client's export."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest
from textual.binding import Binding
from textual.message import Message
from textual.notifications import Notify
from textual.widget import Widget
from textual.widgets import DataTable, Footer, Input, Static, TextArea

from engine.records import EXPORT_FORMAT, RecordStore
from tests.tui.helpers import case, load_case, ready, settle
from tests.tui.test_records import save_new, wait_for
from tui.app import ExpertApp
from tui.reports import practitioner_summary, to_html
from tui.screens.client_picker import ClientPickerScreen
from tui.screens.clients import ClientsScreen
from tui.screens.consultation import ConsultationScreen
from tui.screens.prompt import EraseScreen, NoteScreen, PromptScreen
from tui.screens.records_flow import write_private

ROOT = Path(__file__).resolve().parents[2]
NOTE = "Patch test booked"
NOTE_2 = "Mornings only"


class Notes:
    """Every notification the app shows (a ``run_test`` message hook)."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def __call__(self, message: Message) -> None:
        if isinstance(message, Notify):
            self.seen.append(str(message.notification.message))

    def last(self) -> str:
        assert self.seen, "no notification shown"
        return self.seen[-1]


def seed(db_path: Path, *names: str) -> list[int]:
    """Clients in the database before the app starts."""
    with RecordStore(db_path) as store:
        return [store.add_client(n, reference=f"R-{i}", by="seed").id for i, n in enumerate(names)]


async def open_clients(pilot: Any) -> ClientsScreen:
    """F3, with the client list focused (keys go to the screen, not the search)."""
    await ready(pilot)
    await pilot.press("f3")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, ClientsScreen)
    screen.query_one("#client-table").focus()
    await settle(pilot)
    return screen


async def highlight(pilot: Any, screen: ClientsScreen, name: str) -> None:
    table = screen.query_one("#client-table", DataTable)
    names = [str(table.get_row_at(i)[0]) for i in range(table.row_count)]
    table.move_cursor(row=names.index(name))
    await settle(pilot)


def detail(screen: ClientsScreen) -> str:
    return str(screen.query_one("#history-detail", Static).render())


# --- a note on save --------------------------------------------------------------------------
async def test_save_with_a_note_then_reopen_and_see_it(
    app: ExpertApp, db_path: Path, tmp_path: Path
):
    notes = Notes()
    async with app.run_test(size=(120, 40), message_hook=notes) as pilot:
        screen = await ready(pilot)
        await load_case(pilot, screen, case())
        await save_new(pilot, note=NOTE)
        assert "with a note" in notes.last()
        first = screen.saved_id
        assert first is not None

        clients = await open_clients(pilot)
        history = clients.query_one("#history-table", DataTable)
        assert history.row_count == 1
        history.focus()
        await settle(pilot)
        assert NOTE in detail(clients)  # viewed in the client list

        await pilot.press("o")  # reopened: the note is shown...
        await settle(pilot)
        assert isinstance(app.screen, ConsultationScreen)
        assert NOTE in notes.last()

        await pilot.press("ctrl+s")  # ...and the correction starts from it
        dialog = await wait_for(pilot, NoteScreen)
        text = dialog.query_one("#note-text", TextArea)
        assert text.text == NOTE
        await pilot.press("enter", *NOTE_2, "ctrl+s")
        await settle(pilot)
        assert screen.saved_id not in {None, first}

        await pilot.press("f3")  # the saved consultation's report carries the note
        await settle(pilot)
        clients.query_one("#history-table").focus()
        await pilot.press("x")
        await settle(pilot)

    with RecordStore(db_path) as store:
        newest, oldest = store.consultations(store.clients()[0].id)
    assert oldest.note == NOTE
    assert newest.note == f"{NOTE}\n{NOTE_2}"
    assert newest.corrects == oldest.id
    summary = next((tmp_path / "exports").glob(f"*-c{newest.id}-summary.md")).read_text()
    assert f"## Note\n\n{NOTE}\n\n{NOTE_2}\n" in summary
    handout = next((tmp_path / "exports").glob(f"*-c{newest.id}-handout.md")).read_text()
    assert NOTE not in handout


async def test_note_dialog_refuses_a_long_note_and_cancel_saves_nothing(
    app: ExpertApp, db_path: Path
):
    notes = Notes()
    async with app.run_test(size=(120, 40), message_hook=notes) as pilot:
        screen = await ready(pilot)
        await load_case(pilot, screen, case())
        await save_new(pilot)  # without a note; the client and practitioner are known now
        assert "with a note" not in notes.last()
        await pilot.press("ctrl+s")
        dialog = await wait_for(pilot, NoteScreen)
        dialog.query_one("#note-text", TextArea).text = "x" * 20_001
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is dialog  # still open, saying why
        assert "20,000" in str(dialog.query_one("#note-hint", Static).render())
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen
        assert notes.last() == "Not saved"
    with RecordStore(db_path) as store:
        saved = store.consultations(store.clients()[0].id)
    assert [c.note for c in saved] == [""]


def screen_row(app: ExpertApp, widget: Widget) -> str:
    """The terminal line a one-line widget is drawn on, as shown."""
    strips = app.screen._compositor.render_strips()  # noqa: SLF001 - what the terminal shows
    return "".join(segment.text for segment in strips[widget.region.y]).rstrip()


async def test_a_reopened_consultation_shows_its_note_at_80x24(app: ExpertApp):
    long_note = f"{NOTE}\n\n" + "Client prefers morning sessions; " * 6
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot)
        await load_case(pilot, screen, case())
        line = screen.query_one("#record-note", Static)
        assert not line.display  # nothing saved yet: no line taken from the form

        await pilot.press("ctrl+s")  # save with a long, two-paragraph note
        await settle(pilot)
        await pilot.press(*"J. Doe RN", "enter")
        await wait_for(pilot, ClientPickerScreen)
        await pilot.press(*"Alex Morgan", "ctrl+n")
        dialog = await wait_for(pilot, NoteScreen)
        dialog.query_one("#note-text", TextArea).text = long_note
        await pilot.press("ctrl+s")
        await settle(pilot)
        first = screen.saved_id
        assert line.display  # the note just saved
        assert screen_row(app, line).startswith(f" Note of #{first}: {NOTE} / Client prefers")

        await pilot.press("ctrl+n")  # a new consultation has no note
        await settle(pilot)
        assert not line.display

        clients = await open_clients(pilot)  # reopen it from the client's history
        clients.query_one("#history-table").focus()
        await settle(pilot)
        assert long_note.strip() in detail(clients)  # the whole note, in the details
        await pilot.press("o")
        await settle(pilot)
        assert app.screen is screen
        assert screen.corrects == first
        assert line.display
        shown = screen_row(app, line)
        assert shown.startswith(f" Note of #{first}: {NOTE} / Client prefers")
        assert shown.endswith("…")  # cut to the width, on one line
        assert line.region.height == 1
        assert line.tooltip == long_note.strip()  # the whole note, on hover
        # the banner, both panes and the footer keep their places in 24 lines
        banner, footer = screen.query_one("#banner"), screen.query_one(Footer)
        assert banner.region.bottom == line.region.y
        assert screen.form.region.height >= 10
        assert screen.results.region.height >= 10
        assert footer.region.bottom == 24


def test_practitioner_summary_shows_the_note_as_inert_text():
    text = practitioner_summary(
        {"decision": "PROCEED", "consultation_date": "2026-11-28"},
        case_data={},
        client_name="Alex",
        practitioner="J. Doe",
        knowledge=None,
        note="# not a heading\n\n**not bold** <b>x</b> 400 mg",
    )
    assert (
        "## Note\n\n\\# not a heading\n\n\\*\\*not bold\\*\\* \\<b>x\\</b> \\[dose omitted\\]\n"
        in text
    )
    page = to_html(text, "t")
    assert "<h2>Note</h2>" in page
    assert "<b>" not in page
    without = practitioner_summary(
        {}, case_data={}, client_name="A", practitioner="B", knowledge=None
    )
    assert "## Note" not in without


# --- erasure ---------------------------------------------------------------------------------
async def test_erase_a_client_through_the_dialog(app: ExpertApp, db_path: Path):
    with RecordStore(db_path) as store:
        store.add_client("Alex Morgan", reference="R-77", notes="Prefers mornings", by="seed")
    notes = Notes()
    async with app.run_test(size=(120, 40), message_hook=notes) as pilot:
        clients = await open_clients(pilot)
        app.workspace.practitioner = "J. Doe RN"  # the session's practitioner is offered
        await pilot.press("delete")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, EraseScreen)
        warning = str(dialog.query_one("#erase-warning", Static).render())
        for words in ("name, date of birth, reference and notes", "of 0 consultation(s)",
                      "audited tombstone", "cannot be undone"):  # fmt: skip
            assert words in warning
        assert dialog.query_one("#erase-by", Input).value == "J. Doe RN"
        await pilot.press(*"by email", "enter", *"alex MORGAN", "enter")  # the reason has focus
        await settle(pilot)
        assert app.screen is clients
        assert "Erased client #1" in notes.last()

        table = clients.query_one("#client-table", DataTable)  # the tombstone is listed
        assert str(table.get_row_at(0)[0]) == "(erased client #1)"
        shown = detail(clients)
        assert "Erased by J. Doe RN; reason: by email" in shown
        assert "Alex" not in shown

        await pilot.press("delete")  # twice: refused with the date, no dialog
        await settle(pilot)
        assert app.screen is clients
        assert "already erased" in notes.last()

    with RecordStore(db_path) as store:
        client = store.client(1)
        assert (client.erased, client.name, client.reference, client.notes) == (True, "", "", "")
        assert store.erasure(1) == {"at": client.erased_at, "by": "J. Doe RN", "reason": "by email"}
        assert [e.action for e in store.audit(1)][-1] == "client.erased"
    raw = db_path.read_bytes()  # noqa: ASYNC240 - the app has closed; nothing else runs
    assert b"Alex Morgan" not in raw
    assert b"Prefers mornings" not in raw


async def test_cancelled_erase_changes_nothing(app: ExpertApp, db_path: Path):
    seed(db_path, "Alex Morgan", "Sam Patel")
    notes = Notes()
    async with app.run_test(size=(120, 40), message_hook=notes) as pilot:
        clients = await open_clients(pilot)
        await highlight(pilot, clients, "Sam Patel")
        await pilot.press("delete")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, EraseScreen)
        assert "Sam Patel" in str(dialog.query_one(".dialog-title", Static).render())
        await pilot.press(*"J. Doe", "enter", *"request", "enter", *"Sam Patel", "escape")
        await settle(pilot)
        assert app.screen is clients
        assert notes.last() == "Not erased"
    with RecordStore(db_path) as store:
        assert [c.name for c in store.clients(include_erased=True)] == ["Alex Morgan", "Sam Patel"]
        assert "client.erased" not in [e.action for e in store.audit()]


async def test_wrong_confirmation_is_refused(app: ExpertApp, db_path: Path):
    seed(db_path, "Alex Morgan", "Sam Patel")
    async with app.run_test(size=(120, 40)) as pilot:
        clients = await open_clients(pilot)
        await highlight(pilot, clients, "Alex Morgan")
        await pilot.press("delete")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, EraseScreen)
        # the other client's name, or ERASE, is not this client's name
        for typed in ("Sam Patel", "ERASE", ""):
            dialog.query_one("#erase-by", Input).value = "J. Doe"
            dialog.query_one("#erase-reason", Input).value = "request"
            dialog.query_one("#erase-confirm", Input).value = typed
            dialog.query_one("#erase-confirm", Input).focus()
            await pilot.press("enter")
            await settle(pilot)
            assert app.screen is dialog
            error = str(dialog.query_one("#erase-error", Static).render())
            assert "nothing was erased" in error
        # who and why are required too
        dialog.query_one("#erase-confirm", Input).value = "Alex Morgan"
        dialog.query_one("#erase-reason", Input).value = " "
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is dialog
        assert "reason" in str(dialog.query_one("#erase-error", Static).render())
        await pilot.press("escape")
        await settle(pilot)
    with RecordStore(db_path) as store:
        assert not any(c.erased for c in store.clients(include_erased=True))


async def test_erase_shows_the_store_message_when_it_refuses(app: ExpertApp, db_path: Path):
    seed(db_path, "Alex Morgan")
    notes = Notes()
    async with app.run_test(size=(120, 40), message_hook=notes) as pilot:
        clients = await open_clients(pilot)
        await pilot.press("delete")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, EraseScreen)
        dialog.query_one("#erase-by", Input).value = "J. Doe"
        dialog.query_one("#erase-reason", Input).value = "r" * 2_001  # over the store's limit
        dialog.query_one("#erase-confirm", Input).value = "Alex Morgan"
        dialog.query_one("#erase-confirm", Input).focus()
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is clients
        assert notes.last().startswith("Not erased: reason for the erasure is longer than")
        table = clients.query_one("#client-table", DataTable)
        assert str(table.get_row_at(0)[0]) == "Alex Morgan"
    with RecordStore(db_path) as store:
        assert not store.client(1).erased


# --- export ----------------------------------------------------------------------------------
async def test_export_a_client_to_a_chosen_directory(app: ExpertApp, db_path: Path, tmp_path: Path):
    seed(db_path, "Alex Morgan", "Zoë Ng")
    chosen = tmp_path / "requests" / "zoe"
    notes = Notes()
    async with app.run_test(size=(120, 40), message_hook=notes) as pilot:
        clients = await open_clients(pilot)
        await highlight(pilot, clients, "Zoë Ng")
        await pilot.press("e")
        await settle(pilot)
        assert isinstance(app.screen, PromptScreen)  # who exports (once per session)
        await pilot.press(*"J. Doe RN", "enter")
        await settle(pilot)
        assert isinstance(app.screen, PromptScreen)  # where
        directory = app.screen.query_one(Input)
        assert directory.value == str(tmp_path / "exports")
        directory.value = str(chosen)
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is clients
    [path] = chosen.iterdir()
    assert path.name.startswith("zo-ng-client-2-export-")
    assert path.suffix == ".json"
    assert str(path) in notes.last()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["format"] == EXPORT_FORMAT
    assert data["client"]["name"] == "Zoë Ng"
    assert data["client"]["reference"] == "R-1"
    assert data["erasure"] is None
    assert data["consultations"] == []
    assert [e["action"] for e in data["audit"]] == ["client.added", "client.exported"]
    assert data["audit"][-1]["actor"] == "J. Doe RN"
    with RecordStore(db_path) as store:
        assert set(data) == set(store.export_client(2))
        assert "Alex Morgan" not in path.read_text(encoding="utf-8")


async def test_export_failure_is_shown_not_raised(app: ExpertApp, db_path: Path, tmp_path: Path):
    seed(db_path, "Alex Morgan")
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    notes = Notes()
    async with app.run_test(size=(120, 40), message_hook=notes) as pilot:
        await open_clients(pilot)
        app.workspace.practitioner = "J. Doe RN"
        await pilot.press("e")
        await settle(pilot)
        app.screen.query_one(Input).value = str(blocker / "sub")
        await pilot.press("enter")
        await settle(pilot)
        assert notes.last().startswith("Export failed:")


def test_write_private_narrows_an_existing_file(tmp_path: Path):
    path = tmp_path / "out.json"
    path.write_text("old")
    path.chmod(0o644)
    write_private(path, "new")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text() == "new"
    if os.name == "posix":
        fresh = tmp_path / "sub" / "fresh.json"
        write_private(fresh, "x")
        assert stat.S_IMODE(fresh.stat().st_mode) == 0o600


# --- keys ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "owner", [ClientsScreen, NoteScreen, EraseScreen], ids=lambda c: c.__name__
)
def test_new_bindings_have_ids_and_are_documented(owner: type):
    keys_doc = (ROOT / "docs" / "tui-keys.md").read_text(encoding="utf-8")
    for binding in owner.BINDINGS:
        assert isinstance(binding, Binding)
        assert binding.id
        assert binding.tooltip
        assert f"`{binding.id}`" in keys_doc, f"{binding.id} is missing from docs/tui-keys.md"


def test_help_lists_the_records_keys():
    help_text = (ROOT / "tui" / "help.md").read_text(encoding="utf-8")
    for words in ("`e` exports", "`delete` erases", "note"):
        assert words in help_text
