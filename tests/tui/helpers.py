"""Helpers of the TUI tests: the fixed date, sample cases, waiting for workers."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from tui.demo import CLEAN_CASE
from tui.screens.consultation import ConsultationScreen
from tui.widgets.answers import answers_from_data

TODAY = dt.date(2026, 11, 28)
"""Every test consults on this date (day windows and screenshots stay fixed)."""
MINI = Path(__file__).resolve().parent.parent / "fixtures" / "mini"
"""A small, stable knowledge (snapshot tests use it so knowledge edits do not move them)."""

CLEAN: dict[str, Any] = {"consultation_date": TODAY.isoformat(), **copy.deepcopy(CLEAN_CASE)}
"""A complete, clean case (examples/clean-client.yaml)."""


def case(**parts: dict[str, Any]) -> dict[str, Any]:
    """The clean case with some client/plan answers replaced."""
    data = copy.deepcopy(CLEAN)
    for part, changes in parts.items():
        if part in {"client", "plan"}:
            data[part].update(changes)
        else:
            data[part] = changes
    return data


async def settle(pilot: Pilot[Any]) -> None:
    """Let workers finish and their messages land."""
    app = pilot.app
    for _ in range(3):
        await pilot.pause()
        # dialog flows (save, export) wait on the user: only the engine/store workers finish
        busy = [w for w in app.workers if not w.group.endswith("dialog") and not w.is_finished]
        if busy:  # an empty list would mean "every worker"
            await app.workers.wait_for_complete(busy)
    await pilot.pause()


async def ready(pilot: Pilot[Any]) -> ConsultationScreen:
    """Wait for the knowledge and the first assessment; return the consultation screen."""
    app = pilot.app
    for _ in range(400):
        screen = app.screen
        if isinstance(screen, ConsultationScreen) and screen.outcome is not None:
            await settle(pilot)
            return screen
        await pilot.pause(0.01)
    msg = "the consultation screen did not become ready"
    raise AssertionError(msg)


async def load_case(pilot: Pilot[Any], screen: ConsultationScreen, data: dict[str, Any]) -> None:
    """Put a whole case into the form (as reopening a saved consultation does)."""
    setup = screen.workspace.setup
    assert setup is not None
    await screen.load_answers(answers_from_data(setup.sections, data, today=TODAY))
    await settle(pilot)


def codes(screen: ConsultationScreen) -> list[str]:
    """Finding codes of the assessment on screen."""
    assert screen.assessment is not None
    return [f.code for f in screen.assessment.findings]
