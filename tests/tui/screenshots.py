"""Regenerate the user guide's screenshots (docs/images/*.svg) by driving the real app.

Run: .venv/bin/python -m tests.tui.screenshots   (not a test: pytest does not collect it)
"""

from __future__ import annotations

import asyncio
import copy
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input

from knowledge import DEFAULT_KNOWLEDGE
from tests.tui.helpers import CLEAN, TODAY, load_case, ready, settle
from tui.app import ExpertApp, make_app
from tui.screens.consultation import ConsultationScreen

IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"
SIZE = (120, 36)

SAMPLE: dict[str, Any] = copy.deepcopy(CLEAN)
SAMPLE["client"].update(
    {
        "age": 44,
        "fitzpatrick": 4,
        "medications": [{"name": "Eliquis", "status": "current"}],
        "allergies": ["lidocaine"],
    }
)
SAMPLE["plan"].update(
    {
        "indication": "acne_scars_atrophic",
        "areas": [{"zone": "forehead", "depth_mm": 0.5}, {"zone": "cheeks", "depth_mm": 2.4}],
    }
)

Step = Callable[[Pilot[Any], ConsultationScreen], Awaitable[None]]


async def nothing(_pilot: Pilot[Any], _screen: ConsultationScreen) -> None:
    return


async def keys(pilot: Pilot[Any], *pressed: str) -> None:
    for key in pressed:
        await pilot.press(key)
        await settle(pilot)


async def shoot(app: ExpertApp, name: str) -> None:
    for widget in app.query(Input):
        widget.cursor_blink = False
    IMAGES.mkdir(parents=True, exist_ok=True)
    app.save_screenshot(filename=f"{name}.svg", path=str(IMAGES))
    print(f"docs/images/{name}.svg")  # noqa: T201 - a script reporting what it wrote


async def scenes(db: Path) -> None:
    app = make_app(DEFAULT_KNOWLEDGE, db, today=TODAY, watch=False, demo=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await settle(pilot)
        await shoot(app, "consultation-empty")

        await load_case(pilot, screen, SAMPLE)
        screen.query_one("#q-client-fitzpatrick").focus()
        await settle(pilot)
        await shoot(app, "consultation")

        screen.explain(("finding", "ANTICOAG_ANTIPLATELET"))
        await settle(pilot)
        await keys(pilot, "down", "down")
        await shoot(app, "explanation")
        await keys(pilot, "escape")

        await keys(pilot, "f7")
        await shoot(app, "suggestions")
        await keys(pilot, "escape")

        screen.action_why_not("PREGNANCY")
        await settle(pilot)
        await shoot(app, "why-not")
        await keys(pilot, "escape")

        screen.query_one("#q-client-hsv_history").focus()
        await keys(pilot, "f1")
        await shoot(app, "help")
        await keys(pilot, "escape")

        await keys(pilot, "f3")
        app.screen.query_one("#client-table").focus()
        await keys(pilot, "down")
        await shoot(app, "clients")

        await keys(pilot, "f4")
        await shoot(app, "knowledge")

    small = make_app(DEFAULT_KNOWLEDGE, db, today=TODAY, watch=False)
    async with small.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot)
        await load_case(pilot, screen, SAMPLE)
        await shoot(small, "consultation-80x24")


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(scenes(Path(tmp) / "demo.sqlite3"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
