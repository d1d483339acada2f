"""Keyboard first: bindings, F1 help, the command palette, the user keymap, --demo, the CLI."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
from pathlib import Path

import pytest
from textual.binding import Binding
from textual.command import CommandPalette
from textual.widgets import DataTable, Input, Markdown

from engine.records import RecordStore
from knowledge import DEFAULT_KNOWLEDGE
from tests.tui.helpers import TODAY, ready, settle
from tui import cli
from tui.app import ExpertApp, make_app
from tui.keymap import load_keymap
from tui.screens.client_picker import ClientPickerScreen
from tui.screens.clients import ClientsScreen
from tui.screens.consultation import ConsultationScreen
from tui.screens.explanation import ExplanationScreen
from tui.screens.help import HelpScreen
from tui.screens.knowledge import KnowledgeScreen
from tui.screens.prompt import PromptScreen
from tui.screens.record import RecordScreen
from tui.screens.suggestions import SuggestionsScreen
from tui.screens.why_asked import WhyAskedScreen
from tui.screens.why_not import WhyNotScreen
from tui.widgets.choice import Choice, ChoicePicker
from tui.widgets.results import DecisionBanner

SCREENS = (
    ExpertApp,
    ConsultationScreen,
    ClientsScreen,
    KnowledgeScreen,
    ExplanationScreen,
    SuggestionsScreen,
    WhyNotScreen,
    WhyAskedScreen,
    HelpScreen,
    RecordScreen,
    PromptScreen,
    ClientPickerScreen,
    Choice,
    ChoicePicker,
    DecisionBanner,
)


@pytest.mark.parametrize("owner", SCREENS, ids=lambda c: c.__name__)
def test_every_binding_has_an_id_and_a_tooltip(owner):
    for binding in owner.BINDINGS:
        assert isinstance(binding, Binding)
        assert binding.id, f"{owner.__name__}: {binding.key} has no id"
        assert binding.tooltip, f"{owner.__name__}: {binding.id} has no tooltip"


def test_binding_ids_are_documented():
    keys_doc = (Path(__file__).resolve().parents[2] / "docs" / "tui-keys.md").read_text()
    for owner in SCREENS:
        for binding in owner.BINDINGS:
            assert isinstance(binding, Binding)
            assert f"`{binding.id}`" in keys_doc, f"{binding.id} is missing from docs/tui-keys.md"


async def test_f1_help_shows_the_focused_question_first(app: ExpertApp):
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await ready(pilot)
        screen.query_one("#q-client-fitzpatrick").focus()
        await pilot.press("f1")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        text = app.screen.topic
        assert "Fitzpatrick" in text
        assert "post-inflammatory hyperpigmentation" in text
        assert app.screen.query_one(Markdown)
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen


async def test_screens_by_function_key(app: ExpertApp):
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await ready(pilot)
        await pilot.press("f3")
        await settle(pilot)
        assert isinstance(app.screen, ClientsScreen)
        await pilot.press("f4")
        await settle(pilot)
        assert isinstance(app.screen, KnowledgeScreen)
        await pilot.press("f2")
        await settle(pilot)
        assert app.screen is screen


async def test_command_palette_runs_app_commands(app: ExpertApp):
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await ready(pilot)
        await pilot.press("ctrl+p")
        await settle(pilot)
        assert CommandPalette.is_open(app)
        await pilot.press(*"why not PREGNANCY")
        await pilot.pause(0.3)
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, WhyNotScreen)
        assert app.screen.code == "PREGNANCY"
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen
        # jump to a question from the palette
        await pilot.press("ctrl+p")
        await settle(pilot)
        await pilot.press(*"go to breastfeeding")
        await pilot.pause(0.3)
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert app.focused is screen.query_one("#q-client-breastfeeding")


async def test_user_keymap_rebinds_by_id(tmp_path: Path, db_path: Path):
    keymap = tmp_path / "keymap.toml"
    keymap.write_text('[keymap]\n"consultation.why_not" = "f10"\n"app.help" = "f12"\n')
    assert load_keymap(keymap).keys == {"consultation.why_not": "f10", "app.help": "f12"}
    app = make_app(DEFAULT_KNOWLEDGE, db_path, today=TODAY, watch=False, keymap_path=keymap)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await pilot.press("f10")
        await settle(pilot)
        assert isinstance(app.screen, WhyNotScreen)
        await pilot.press("escape", "f12")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)


def test_keymap_file_problems_are_reported(tmp_path: Path):
    bad = tmp_path / "keymap.json"
    bad.write_text(json.dumps({"consultation.save": 3, "app.help": ["f1", "f11"]}))
    keymap = load_keymap(bad)
    assert keymap.keys == {"app.help": "f1,f11"}
    assert len(keymap.problems) == 1
    broken = tmp_path / "broken.toml"
    broken.write_text("this is = = not toml")
    assert load_keymap(broken).problems


async def test_demo_database_has_sample_clients(tmp_path: Path):
    db = tmp_path / "demo.sqlite3"
    app = make_app(DEFAULT_KNOWLEDGE, db, today=TODAY, watch=False, demo=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await settle(pilot)
        await pilot.press("f3")
        await settle(pilot)
        table = app.screen.query_one("#client-table", DataTable)
        assert table.row_count >= 4
        history = app.screen.query_one("#history-table", DataTable)
        assert history.row_count >= 1
    store = RecordStore(db)
    try:
        names = [c.name for c in store.clients()]
        assert "Sam Patel" in names
        sam = store.clients("Sam Patel")[0]
        decisions = [c.decision for c in store.consultations(sam.id)]
        assert "REFER_FOR_CLEARANCE" in decisions
    finally:
        store.close()


async def test_works_in_80x24(app: ExpertApp):
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot)
        pregnant = screen.query_one("#q-client-pregnant")
        pregnant.focus()
        await pilot.press("y")
        await settle(pilot)
        assert screen.assessment is not None
        assert screen.assessment.decision == "DEFER"
        for key in ("f3", "f4", "f2", "f1", "escape"):
            await pilot.press(key)
            await settle(pilot)
        assert app.screen is screen
        assert screen.query_one("#banner").region.width == 80


async def test_search_input_in_clients_takes_letters(app: ExpertApp):
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await pilot.press("f3")
        await settle(pilot)
        search = app.screen.query_one("#client-search", Input)
        search.focus()
        await pilot.press(*"cox")  # c, o and x are screen keys, but not while typing
        await settle(pilot)
        assert search.value == "cox"
        assert isinstance(app.screen, ClientsScreen)


def test_cli_without_subcommand_opens_the_app(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    opened: list[ExpertApp] = []

    def fake_run(self: ExpertApp, *_args: object, **_kwargs: object) -> None:
        opened.append(self)

    monkeypatch.setattr(ExpertApp, "run", fake_run)
    db = tmp_path / "x.sqlite3"
    assert cli.main(["--db", str(db), "--knowledge", str(DEFAULT_KNOWLEDGE)]) == 0
    assert opened[0].workspace.db_path == db
    assert opened[0].workspace.knowledge_dir == DEFAULT_KNOWLEDGE
    assert cli.main(["--demo"]) == 0
    assert opened[1].workspace.demo
    assert opened[1].workspace.db_path is not None
    # start-up runs with the cyclic GC paused; an app that ends early leaves it on again
    assert opened[0].gc_paused
    assert gc.isenabled()


def test_app_options_alone_open_the_app_without_the_subcommands(tmp_path: Path):
    code = (
        "import gc, sys; from tui import cli; import tui.app; "
        "tui.app.ExpertApp.run = lambda self, *a, **k: None; "
        f"code = cli.main(['--db', {str(tmp_path / 'x.sqlite3')!r}, '--demo']); "
        "print(code, 'tui.commands' in sys.modules, gc.isenabled())"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout
    assert out.split() == ["0", "False", "True"]


@pytest.mark.parametrize(
    ("argv", "app_only"),
    [
        ([], True),
        (["--demo"], True),
        (["--db", "x", "--knowledge", "k", "--keymap", "m"], True),
        (["--db=x", "--demo"], True),
        (["--db"], False),  # argparse says what is missing
        (["--db", "--demo"], False),
        (["--kn", "k"], False),  # abbreviations: the full parser
        (["--help"], False),
        (["check"], False),
        (["--demo", "assess", "case.yaml"], False),
    ],
)
def test_only_well_formed_app_options_skip_the_full_parser(argv: list[str], app_only: bool):
    assert cli._app_only(argv) is app_only  # noqa: SLF001


async def test_startup_report_once_the_first_assessment_is_shown(
    app: ExpertApp, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    report = tmp_path / "startup.json"
    monkeypatch.setenv("NEEDLEWISE_STARTUP_REPORT", str(report))
    monkeypatch.setenv("NEEDLEWISE_LAUNCHED_AT", str(app.startup["app created"]))
    app.gc_paused = True
    gc.disable()
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            for _ in range(500):
                if report.exists() and not app.gc_paused:
                    break
                await pilot.pause(0.01)
        assert gc.isenabled()
        assert not app.gc_paused
    finally:
        gc.enable()
        gc.unfreeze()
    data = json.loads(report.read_text())
    assert data["launched"] == "launcher"
    marks = data["marks"]
    assert list(marks)[-1] == "first assessment shown"
    assert {"knowledge loaded", "compiled, engine ready", "consultation mounted"} <= set(marks)
    assert list(marks.values()) == sorted(marks.values())
    assert marks["app created"] == 0


def test_launch_time_from_proc_without_a_launcher(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("NEEDLEWISE_LAUNCHED_AT", raising=False)
    launched, source = cli.launched_at()
    assert source in {
        "/proc start time",
        "first line of needlewise (interpreter start not counted)",
    }
    assert launched <= cli.STARTED


def test_subcommands_still_import_no_textual():
    code = (
        "import sys; from tui import cli; cli.build_parser(); "
        "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] == 'textual')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout
    assert out.strip() == ""
