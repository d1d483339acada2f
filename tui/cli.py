"""The ``needlewise`` command. Subcommands import no Textual, so they start fast.

Start-up of the terminal UI (docs/performance.md, "Terminal UI"): this module imports only the
standard library, so ``main`` runs before any engine or Textual import; ``needlewise`` with app
options only is parsed without the subcommands (``_app_only``), which are never imported; and
the cyclic garbage collector is off until the first consultation is up (``run_app``).

Exit codes (DESIGN.md section 2): 0 done; 1 ran and found failures; 2 unusable input.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

STARTED = time.perf_counter()
"""When Python began running needlewise's code (interpreter and ``site`` already started)."""

STARTUP_REPORT = "NEEDLEWISE_STARTUP_REPORT"
"""Environment: a file (``-``: stderr) for the start-up timings; the app exits once interactive."""
LAUNCHED_AT = "NEEDLEWISE_LAUNCHED_AT"
"""Environment: the launcher's ``time.perf_counter()`` (CLOCK_MONOTONIC) just before the spawn."""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every registered subcommand."""
    from tui.commands import COMMANDS  # noqa: PLC0415 - not on the terminal UI's way

    parser = _app_parser()
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS:
        child = sub.add_parser(command.NAME, help=command.HELP, description=command.HELP)
        command.configure(child)
        child.set_defaults(run=command.run)
    return parser


def _app_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="needlewise",
        description="Microneedling treatment planning: decision support, not diagnosis.",
    )
    add_app_options(parser)
    return parser


_APP_VALUE_OPTIONS = frozenset({"--db", "--knowledge", "--keymap"})


def _app_only(argv: Sequence[str]) -> bool:
    """True when ``argv`` is nothing but well-formed terminal UI options (no command, no help).

    Anything else (a command, ``--help``, an abbreviation, a missing value) goes to the full
    parser, so its messages stay the same.
    """
    expect_value = False
    for arg in argv:
        if expect_value:
            if arg.startswith("-"):  # argparse takes it for an option: its error, its message
                return False
            expect_value = False
            continue
        if arg in _APP_VALUE_OPTIONS:
            expect_value = True
        elif arg != "--demo" and not any(arg.startswith(f"{o}=") for o in _APP_VALUE_OPTIONS):
            return False
    return not expect_value


def add_app_options(parser: argparse.ArgumentParser) -> None:
    """Options of the terminal UI (``needlewise`` with no subcommand)."""
    app = parser.add_argument_group("terminal UI (no COMMAND)")
    app.add_argument(
        "--db",
        dest="app_db",
        type=Path,
        metavar="PATH",
        help="records database (default: $NEEDLEWISE_DB or the user data directory)",
    )
    app.add_argument(
        "--demo",
        dest="app_demo",
        action="store_true",
        help="open a database with sample clients (--db PATH, else a new temporary one)",
    )
    app.add_argument(
        "--knowledge",
        dest="app_knowledge",
        type=Path,
        metavar="DIR",
        help="knowledge directory (default: the bundled one); reloaded when it changes",
    )
    app.add_argument("--keymap", dest="app_keymap", type=Path, metavar="FILE", help="keymap file")


def run_app(args: argparse.Namespace) -> int:
    """Open the terminal UI. Textual is imported here only: subcommands never load it.

    The cyclic garbage collector is paused from here until the first consultation is on
    screen (``ExpertApp.gc_paused``): start-up makes some 190,000 long-lived objects (modules,
    the knowledge, the widgets), and the ~470 collections that kept re-scanning them took
    ~0.14 s. Half a second after the first screen, the app collects once (start-up's cyclic
    garbage, ~26,000 objects), freezes what survives (``gc.freeze``: later collections skip it,
    so keystrokes meet shorter pauses too) and turns the collector back on.
    """
    pause = gc.isenabled()
    gc.disable()
    try:
        return _run_app(args, paused=pause)
    finally:
        if pause and not gc.isenabled():  # the app ended before the consultation was up
            gc.enable()


def _run_app(args: argparse.Namespace, *, paused: bool) -> int:
    marks = {"python": STARTED, "cli ready": time.perf_counter()}
    from knowledge import DEFAULT_KNOWLEDGE  # noqa: PLC0415
    from tui.app import make_app  # noqa: PLC0415 - lazy, see the module docstring

    marks["app imported"] = time.perf_counter()

    db_path = args.app_db
    scratch = None
    if args.app_demo:
        from tui.demo import demo_db_path  # noqa: PLC0415

        db_path = demo_db_path(db_path)
        scratch = None if args.app_db else db_path.parent  # ours: removed on exit
    app = make_app(
        args.app_knowledge or DEFAULT_KNOWLEDGE,
        db_path,
        keymap_path=args.app_keymap,
        demo=args.app_demo,
    )
    app.startup.update(marks)
    app.gc_paused = paused
    try:
        app.run()
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    return int(app.return_code or 0)


def launched_at() -> tuple[float, str]:
    """The process launch as a ``time.perf_counter()`` value, and where that came from.

    The launcher's own clock reading (``$NEEDLEWISE_LAUNCHED_AT``) when given, as bench/tui.py
    does; else the kernel's start time of this process (10 ms resolution).
    """
    given = os.environ.get(LAUNCHED_AT)
    if given:
        return float(given), "launcher"
    try:
        stat = Path(f"/proc/{os.getpid()}/stat").read_text(encoding="ascii")
        ticks = int(stat.rsplit(")", 1)[1].split()[19])  # field 22, starttime
        since_boot = time.clock_gettime(time.CLOCK_BOOTTIME)  # type: ignore[attr-defined,unused-ignore]
        now = time.perf_counter()
    except (OSError, ValueError, IndexError, AttributeError):
        return STARTED, "first line of needlewise (interpreter start not counted)"
    return now - (since_boot - ticks / os.sysconf("SC_CLK_TCK")), "/proc start time"


def report_when_interactive(app: Any) -> None:  # noqa: ANN401 - tui.app.ExpertApp (no Textual here)
    """Once the first assessment is on screen: write the app's start-up marks and exit it."""
    painted: list[float] = getattr(app.screen, "painted_at", [])
    if painted:
        app.startup["first assessment shown"] = painted[0]
        write_startup_report(app.startup)
        app.exit()


def write_startup_report(marks: Mapping[str, float]) -> None:
    """Write the start-up marks as seconds since launch (JSON) to ``$NEEDLEWISE_STARTUP_REPORT``."""
    start, source = launched_at()
    report = {
        "launched": source,
        "marks": {k: round(v - start, 4) for k, v in sorted(marks.items(), key=lambda kv: kv[1])},
    }
    text = json.dumps(report, indent=1) + "\n"
    target = os.environ.get(STARTUP_REPORT, "-")
    if target == "-":
        sys.stderr.write(text)
    else:
        Path(target).write_text(text, encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``needlewise`` console script."""
    arguments = sys.argv[1:] if argv is None else list(argv)
    if _app_only(arguments):
        return run_app(_app_parser().parse_args(arguments))
    parser = build_parser()
    from engine import AssessmentError  # noqa: PLC0415 - loaded with the subcommands anyway

    try:
        args = parser.parse_args(arguments)
    except SystemExit as exc:  # argparse exits 2 on bad arguments, which is our code too
        return int(exc.code or 0)
    if args.command is None:
        return run_app(args)
    try:
        return int(args.run(args))
    except AssessmentError as exc:
        from tui.commands.common import EXIT_INTERNAL  # noqa: PLC0415

        sys.stderr.write(
            f"needlewise: internal error, no result was produced: {exc}\n"
            "needlewise: this is a defect in needlewise, not in your input; please report it\n",
        )
        return EXIT_INTERNAL
