"""The ``needlewise`` command. Subcommands import no Textual, so they start fast.

Exit codes (DESIGN.md section 2): 0 done; 1 ran and found failures; 2 unusable input.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

from engine import AssessmentError
from tui.commands import COMMANDS
from tui.commands.common import EXIT_INTERNAL


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every registered subcommand."""
    parser = argparse.ArgumentParser(
        prog="needlewise",
        description="Microneedling treatment planning: decision support, not diagnosis.",
    )
    add_app_options(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS:
        child = sub.add_parser(command.NAME, help=command.HELP, description=command.HELP)
        command.configure(child)
        child.set_defaults(run=command.run)
    return parser


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
    """Open the terminal UI. Textual is imported here only: subcommands never load it."""
    from knowledge import DEFAULT_KNOWLEDGE  # noqa: PLC0415
    from tui.app import make_app  # noqa: PLC0415 - lazy, see the module docstring

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
    try:
        app.run()
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    return int(app.return_code or 0)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``needlewise`` console script."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on bad arguments, which is our code too
        return int(exc.code or 0)
    if args.command is None:
        return run_app(args)
    try:
        return int(args.run(args))
    except AssessmentError as exc:
        sys.stderr.write(
            f"needlewise: internal error, no result was produced: {exc}\n"
            "needlewise: this is a defect in needlewise, not in your input; please report it\n",
        )
        return EXIT_INTERNAL
