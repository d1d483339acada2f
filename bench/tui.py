"""Benchmark the terminal UI: start to interactive, and keystroke to updated findings on screen.

Run: .venv/bin/python bench/tui.py [--runs 5] [--keys 40]
Targets (issue #6): start to interactive <= 1.5 s; keystroke that changes the plan to the updated
findings painted <= 50 ms median. Exit code 1 when a target is missed.

"Interactive" is measured with ``App.run_test`` from entering the app to the first assessment's
results painted (the knowledge loaded and compiled, the form built, the first answer typeable).
The process start (Python, Textual and engine imports) is measured separately in a subprocess.
A keystroke's latency runs from sending the key to the moment the results of the assessment it
triggered were painted (``ConsultationScreen.painted_at``).
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import datetime as dt
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from knowledge import DEFAULT_KNOWLEDGE  # noqa: E402
from tui.app import make_app  # noqa: E402
from tui.demo import CLEAN_CASE  # noqa: E402
from tui.screens.consultation import ConsultationScreen  # noqa: E402
from tui.widgets.answers import answers_from_data  # noqa: E402

TODAY = dt.date(2026, 11, 28)
START_TARGET_S = 1.5
KEY_TARGET_MS = 50.0
CASE: dict[str, Any] = {"consultation_date": TODAY.isoformat(), **copy.deepcopy(CLEAN_CASE)}


async def _interactive(pilot: Any) -> ConsultationScreen:  # noqa: ANN401
    app = pilot.app
    while True:
        screen = app.screen
        if isinstance(screen, ConsultationScreen) and screen.painted_at:
            return screen
        await asyncio.sleep(0.002)


async def _idle(pilot: Any) -> None:  # noqa: ANN401
    for _ in range(3):
        await pilot.pause()
        busy = [w for w in pilot.app.workers if not w.is_finished]
        if busy:
            await pilot.app.workers.wait_for_complete(busy)


async def start_once(db: Path) -> float:
    """Seconds from entering the app to the first results painted."""
    app = make_app(DEFAULT_KNOWLEDGE, db, today=TODAY, watch=False)
    start = time.perf_counter()
    async with app.run_test(size=(120, 40)) as pilot:
        await _interactive(pilot)
        elapsed = time.perf_counter() - start
        await _idle(pilot)
    return elapsed


async def keystrokes(db: Path, count: int) -> dict[str, list[float]]:
    """Latencies (ms) of plan keystrokes (depth), choice keys and typed names."""
    app = make_app(DEFAULT_KNOWLEDGE, db, today=TODAY, watch=False)
    out: dict[str, list[float]] = {"depth digit": [], "yes/no choice": [], "medication name": []}
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _interactive(pilot)
        setup = app.workspace.setup
        assert setup is not None  # noqa: S101
        await screen.load_answers(
            answers_from_data(setup.sections, copy.deepcopy(CASE), today=TODAY)
        )
        await _idle(pilot)

        async def timed(label: str, key: str) -> None:
            before = len(screen.painted_at)
            sent = time.perf_counter()
            await pilot.press(key)
            while len(screen.painted_at) == before:  # noqa: ASYNC110 - polling the app's own log
                await asyncio.sleep(0.0005)
            out[label].append((screen.painted_at[before] - sent) * 1000)
            await _idle(pilot)

        depth = screen.query_one("#q-plan-areas-1-depth_mm")  # cheeks
        depth.focus()
        await pilot.press("ctrl+a", "ctrl+k")
        await _idle(pilot)
        digits = "2131"
        for i in range(count):
            await timed("depth digit", digits[i % len(digits)])  # a depth: the plan changes
            await timed("depth digit", "backspace")  # depth unanswered: the plan changes again

        choice = screen.query_one("#q-client-pregnant")
        choice.focus()
        for i in range(count // 2):
            await timed("yes/no choice", "y" if i % 2 == 0 else "n")

        row = await screen.form.add_row("client.medications")
        await _idle(pilot)
        del row
        word = "apixaban "
        for i in range(count // 2):
            await timed("medication name", word[i % (len(word) - 1)])
    return out


def process_start() -> float:
    """Seconds for a fresh process to import the app (Python + Textual + engine)."""
    code = "import time; t = time.perf_counter(); import tui.app; print(time.perf_counter() - t)"
    start = time.perf_counter()
    out = subprocess.run(  # noqa: S603 - our own interpreter and a fixed program
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, cwd=ROOT
    )
    total = time.perf_counter() - start
    print(f"{'process start + imports':<32} {total:6.3f} s (imports {float(out.stdout):.3f} s)")
    return total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="app starts to time")
    parser.add_argument("--keys", type=int, default=40, help="keystrokes per kind")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.sqlite3"
        imports = process_start()
        starts = [asyncio.run(start_once(db)) for _ in range(args.runs)]
        start_median = statistics.median(starts)
        print(
            f"{'start to interactive':<32} median {start_median:6.3f} s  "
            f"min {min(starts):.3f}  max {max(starts):.3f}  (n={len(starts)}; target <= "
            f"{START_TARGET_S} s; with the process start and imports ~"
            f"{start_median + imports:.2f} s)"
        )
        keys = asyncio.run(keystrokes(db, args.keys))
    failed = start_median > START_TARGET_S
    for label, samples in keys.items():
        samples.sort()
        median = statistics.median(samples)
        p95 = samples[max(0, int(len(samples) * 0.95) - 1)]
        print(
            f"{'keystroke -> findings: ' + label:<40} median {median:6.1f} ms  "
            f"p95 {p95:6.1f} ms  (n={len(samples)})"
        )
        if label == "depth digit":
            failed = failed or median > KEY_TARGET_MS
            print(f"{'':<40} target: median <= {KEY_TARGET_MS:.0f} ms")
    print("FAIL: a target was missed" if failed else "OK: both targets met")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
