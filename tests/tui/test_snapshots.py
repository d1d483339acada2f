"""A few screenshots at fixed sizes (on the small, stable test knowledge).

Update after an intended change with ``pytest tests/tui/test_snapshots.py --snapshot-update``
and review the report (``snapshot_report.html``) before committing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from tests.tui.helpers import MINI, TODAY, case, load_case, ready, settle
from tui.app import ExpertApp, make_app
from tui.screens.consultation import ConsultationScreen


@pytest.fixture
def mini_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ExpertApp:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("NEEDLEWISE_KEYMAP", raising=False)
    return make_app(MINI, tmp_path / "records.sqlite3", today=TODAY, watch=False)


async def steady(pilot: Pilot[Any]) -> ConsultationScreen:
    screen = await ready(pilot)
    for widget in pilot.app.query(Input):
        widget.cursor_blink = False
    return screen


def with_case(data: dict[str, Any], *keys: str) -> Any:
    async def run_before(pilot: Pilot[Any]) -> None:
        screen = await steady(pilot)
        await load_case(pilot, screen, data)
        for widget in pilot.app.query(Input):
            widget.cursor_blink = False
        for key in keys:
            await pilot.press(key)
            await settle(pilot)
        for widget in pilot.app.query(Input):
            widget.cursor_blink = False
        await settle(pilot)

    return run_before


def test_consultation_80x24(snap_compare: Any, mini_app: ExpertApp) -> None:
    assert snap_compare(
        mini_app, terminal_size=(80, 24), run_before=with_case(case(client={"pregnant": True}))
    )


def test_consultation_120x40(snap_compare: Any, mini_app: ExpertApp) -> None:
    plan = {**case()["plan"], "areas": [{"zone": "cheeks", "depth_mm": 2.4}]}
    data = case(client={"medications": [{"name": "Eliquis", "status": "current"}]}, plan=plan)
    assert snap_compare(mini_app, terminal_size=(120, 40), run_before=with_case(data))


def test_explanation_120x40(snap_compare: Any, mini_app: ExpertApp) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await with_case(case(client={"pregnant": True}))(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, ConsultationScreen)
        screen.explain(("finding", "PREGNANCY"))
        await settle(pilot)
        await pilot.press("down")
        await settle(pilot)

    assert snap_compare(mini_app, terminal_size=(120, 40), run_before=run_before)


def test_knowledge_browser_80x24(snap_compare: Any, mini_app: ExpertApp) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await steady(pilot)
        await pilot.press("f4")
        await settle(pilot)
        for widget in pilot.app.query(Input):
            widget.cursor_blink = False
        await settle(pilot)

    assert snap_compare(mini_app, terminal_size=(80, 24), run_before=run_before)
