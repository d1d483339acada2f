"""Clients and records: save, history, reopen (a correction), export, re-explain as decided."""

from __future__ import annotations

import stat
from pathlib import Path

from textual.widgets import DataTable, Input

from engine.records import RecordStore
from tests.tui.helpers import TODAY, case, load_case, ready, settle
from tui.app import ExpertApp
from tui.screens.client_picker import ClientPickerScreen
from tui.screens.clients import ClientsScreen
from tui.screens.consultation import ConsultationScreen
from tui.screens.explanation import ExplanationScreen
from tui.screens.prompt import NoteScreen, PromptScreen


async def wait_for(pilot, kind: type) -> object:
    """The screen on top once it is a ``kind`` (dialogs open after a store read in a thread)."""
    for _ in range(300):
        if isinstance(pilot.app.screen, kind):
            return pilot.app.screen
        await pilot.pause(0.01)
    msg = f"{kind.__name__} did not open (on top: {type(pilot.app.screen).__name__})"
    raise AssertionError(msg)


async def save_new(
    pilot,
    practitioner: str = "J. Doe RN",
    client: str = "Alex Morgan",
    note: str = "",
) -> None:
    """ctrl+s on a consultation: practitioner (first time), new client, note, save."""
    await pilot.press("ctrl+s")
    await settle(pilot)
    if isinstance(pilot.app.screen, PromptScreen):
        await pilot.press(*practitioner, "enter")
        await settle(pilot)
    assert isinstance(pilot.app.screen, ClientPickerScreen)
    await pilot.press(*client, "ctrl+n")
    await wait_for(pilot, NoteScreen)
    if note:
        await pilot.press(*note)
    await pilot.press("ctrl+s")
    await settle(pilot)


async def test_save_reopen_and_correct(app: ExpertApp, db_path: Path):
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await ready(pilot)
        await load_case(pilot, screen, case(client={"pregnant": True}))
        await save_new(pilot)
        assert isinstance(app.screen, ConsultationScreen)
        assert screen.saved_id is not None
        assert app.workspace.practitioner == "J. Doe RN"
        first = screen.saved_id

        # the client list and the history
        await pilot.press("f3")
        await settle(pilot)
        clients = app.screen
        assert isinstance(clients, ClientsScreen)
        table = clients.query_one("#client-table", DataTable)
        assert table.row_count == 1
        assert str(table.get_row_at(0)[0]) == "Alex Morgan"
        history = clients.query_one("#history-table", DataTable)
        assert history.row_count == 1
        assert "DEFER" in str(history.get_row_at(0)[2])

        # reopen into the form: a correction
        history.focus()
        await pilot.press("o")
        await settle(pilot)
        assert isinstance(app.screen, ConsultationScreen)
        assert screen.corrects == first
        assert screen.client is not None
        assert screen.client.name == "Alex Morgan"
        pregnant = screen.query_one("#q-client-pregnant")
        assert getattr(pregnant, "answer", None) is True
        pregnant.focus()
        await pilot.press("n")  # corrected: not pregnant
        await settle(pilot)
        await pilot.press("ctrl+s")  # practitioner and client are known now: only the note
        await wait_for(pilot, NoteScreen)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert screen.saved_id is not None
        assert screen.saved_id != first

    store = RecordStore(db_path)
    try:
        client = store.clients("alex")[0]
        saved = store.consultations(client.id)
        assert [c.corrects for c in saved] == [first, None]
        assert saved[0].decision != "DEFER"
        assert saved[1].decision == "DEFER"
        assert saved[0].practitioner == "J. Doe RN"
        assert saved[0].case_data["client"]["pregnant"] is False
        assert saved[0].consultation_date == TODAY.isoformat()
    finally:
        store.close()


async def test_save_refuses_answers_with_problems(app: ExpertApp):
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await ready(pilot)
        age = screen.query_one("#q-client-age", Input)
        age.focus()
        await pilot.press("5")
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ConsultationScreen)
        assert screen.saved_id is None


async def test_export_reports_private_files(app: ExpertApp, tmp_path: Path):
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await ready(pilot)
        await load_case(pilot, screen, case())
        await pilot.press("ctrl+o")
        await settle(pilot)
        assert isinstance(app.screen, PromptScreen)  # the practitioner, once per session
        await pilot.press(*"J. Doe RN", "enter")
        await settle(pilot)
        assert isinstance(app.screen, PromptScreen)  # the directory
        directory = app.screen.query_one(Input)
        assert directory.value == str(tmp_path / "exports")
        await pilot.press("enter")
        await settle(pilot)
    files = sorted((tmp_path / "exports").iterdir())
    assert [f.name for f in files] == [
        "client-2026-11-28-handout.md",
        "client-2026-11-28-summary.html",
        "client-2026-11-28-summary.md",
    ]
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    summary = (tmp_path / "exports" / "client-2026-11-28-summary.md").read_text()
    assert "PROCEED" in summary
    assert "decision support" in summary.lower()
    assert "<html" in (tmp_path / "exports" / "client-2026-11-28-summary.html").read_text()


async def test_saved_consultation_export_and_reexplain(app: ExpertApp, tmp_path: Path):
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await ready(pilot)
        await load_case(pilot, screen, case())
        await save_new(pilot, client="Sam Patel")
        await pilot.press("f3")
        await settle(pilot)
        clients = app.screen
        assert isinstance(clients, ClientsScreen)
        clients.query_one("#history-table").focus()
        await pilot.press("x")
        await settle(pilot)
        exported = sorted(p.name for p in (tmp_path / "exports").iterdir())
        assert len(exported) == 3
        assert all(name.startswith("sam-patel-2026-11-28-c") for name in exported)
        await pilot.press("w")
        await settle(pilot)
        assert isinstance(app.screen, ExplanationScreen)
        assert app.screen.readonly
        assert app.screen.how is not None


async def test_new_client_and_consultation_from_the_client_list(app: ExpertApp):
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await ready(pilot)
        await pilot.press("f3")
        await settle(pilot)
        await pilot.press("ctrl+n")
        await settle(pilot)
        assert isinstance(app.screen, PromptScreen)
        await pilot.press(*"Riley Chen", "enter")
        await settle(pilot)
        clients = app.screen
        assert isinstance(clients, ClientsScreen)
        clients.query_one("#client-table").focus()
        await pilot.press("c")
        await settle(pilot)
        assert app.screen is screen
        assert screen.client is not None
        assert screen.client.name == "Riley Chen"
        assert screen.corrects is None
        search = clients.query_one("#client-search", Input)
        assert search.value == ""
