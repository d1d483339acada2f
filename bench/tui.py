"""Benchmark the terminal UI: start to interactive, and keystroke to updated findings on screen.

Run: .venv/bin/python bench/tui.py [--launches 7] [--runs 5] [--keys 40]
Targets (issue #6): launch to interactive <= 1.5 s; keystroke that changes the plan to the
updated findings painted <= 50 ms median. Exit code 1 when a target is missed.

"Launch to interactive" is the honest figure: the ``needlewise`` console script is started in a
pseudo-terminal (as a user starts it) with ``$NEEDLEWISE_STARTUP_REPORT`` set; the app writes
its start-up marks once the first assessment's results are painted (the knowledge loaded and
compiled, the form built, the first answer typeable) and exits. Every mark is measured from
the moment just before the spawn (``$NEEDLEWISE_LAUNCHED_AT``, CLOCK_MONOTONIC, which the
child's ``time.perf_counter()`` shares on Linux), so interpreter start-up and imports count.
The same by hand: ``NEEDLEWISE_STARTUP_REPORT=- needlewise`` (the launch then comes from
/proc, to 10 ms).

"In the harness" is the older figure: ``App.run_test`` from entering the app to the first
results painted, in this (warm) process. A keystroke's latency runs from sending the key to
the moment the results of the assessment it triggered were painted
(``ConsultationScreen.painted_at``).
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import datetime as dt
import fcntl
import json
import os
import pty
import resource
import select
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
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
LAUNCH_TIMEOUT_S = 60.0
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


def launch_once(
    tmp: Path, *, module: bool = False, size: tuple[int, int] = (120, 40)
) -> tuple[dict[str, float], float]:
    """Start ``needlewise`` in a pseudo-terminal: its start-up marks (s since the spawn) and CPU s.

    The CPU time (user + system, all threads, start to exit) is steadier than the wall clock
    on a shared machine, so it tells whether a change made less work.
    """
    script = Path(sys.executable).parent / "needlewise"
    use_script = script.exists() and not module
    command = [str(script)] if use_script else [sys.executable, "-m", "tui"]
    report = tmp / "startup.json"
    report.unlink(missing_ok=True)
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", size[1], size[0], 0, 0))
    env = {
        **os.environ,
        "TERM": "xterm-256color",
        "COLORTERM": "truecolor",
        "XDG_CONFIG_HOME": str(tmp / "config"),  # no user keymap
        "XDG_DATA_HOME": str(tmp / "data"),
        "NEEDLEWISE_STARTUP_REPORT": str(report),
    }
    env.pop("NEEDLEWISE_KEYMAP", None)
    db = tmp / "launch.sqlite3"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    env["NEEDLEWISE_LAUNCHED_AT"] = repr(time.perf_counter())
    proc = subprocess.Popen(  # noqa: S603 - our own console script
        [*command, "--db", str(db)],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        cwd=ROOT,
        start_new_session=True,
    )
    os.close(slave)
    output = b""
    deadline = time.monotonic() + LAUNCH_TIMEOUT_S
    try:
        while time.monotonic() < deadline:  # drain the output, or the app blocks on a full pty
            ready, _, _ = select.select([master], [], [], 0.05)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not chunk:
                    break
                output = (output + chunk)[-4000:]
            elif proc.poll() is not None:
                break
        proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        pass  # reported below: no start-up report
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if not report.exists():
        tail = output.decode(errors="replace")[-1500:]
        msg = f"needlewise exited ({proc.returncode}) without a start-up report:\n{tail}"
        raise RuntimeError(msg)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    marks: dict[str, float] = json.loads(report.read_text(encoding="utf-8"))["marks"]
    return marks, cpu


def launches(count: int, tmp: Path, *, module: bool = False) -> float:
    """Median launch to interactive over ``count`` launches, with the median of each stage."""
    results = [launch_once(tmp, module=module) for _ in range(count)]
    runs = [marks for marks, _ in results]
    names = list(runs[0])
    print(f"launch to interactive: median of {count} (s since the spawn; stage = since previous)")
    previous = 0.0
    for name in names:
        at = statistics.median(r[name] for r in runs)
        print(f"  {name:<28} {at:6.3f} s   stage {at - previous:6.3f} s")
        previous = at
    total = [r["first assessment shown"] for r in runs]
    median = statistics.median(total)
    print(
        f"{'launch to interactive':<32} median {median:6.3f} s  min {min(total):.3f}  "
        f"max {max(total):.3f}  (n={count}; target <= {START_TARGET_S} s)"
    )
    cpu = [c for _, c in results]
    print(f"{'CPU time, whole run':<32} median {statistics.median(cpu):6.3f} s  min {min(cpu):.3f}")
    return median


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
    parser.add_argument(
        "--launches", type=int, default=7, help="console-script launches to time (0: none)"
    )
    parser.add_argument(
        "--module",
        action="store_true",
        help="launch `python -m tui` in this tree instead of the installed console script",
    )
    parser.add_argument(
        "--runs", type=int, default=5, help="app starts in the harness to time (0: none)"
    )
    parser.add_argument("--keys", type=int, default=40, help="keystrokes per kind (0: none)")
    args = parser.parse_args()
    failed = False
    keys: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.sqlite3"
        if args.launches:
            failed = launches(args.launches, Path(tmp), module=args.module) > START_TARGET_S
        if args.runs:
            process_start()
            starts = [asyncio.run(start_once(db)) for _ in range(args.runs)]
            print(
                f"{'start in the harness':<32} median {statistics.median(starts):6.3f} s  "
                f"min {min(starts):.3f}  max {max(starts):.3f}  (n={len(starts)}; warm process, "
                "imports not counted)"
            )
        if args.keys:
            keys = asyncio.run(keystrokes(db, args.keys))
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
    print("FAIL: a target was missed" if failed else "OK: the targets measured were met")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
