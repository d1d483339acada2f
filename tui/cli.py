"""The ``needlewise`` command. Subcommands import no Textual, so they start fast.

Exit codes (DESIGN.md section 2): 0 done; 1 ran and found failures; 2 unusable input.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from tui.commands import COMMANDS
from engine import AssessmentError
from tui.commands.common import EXIT_BAD_INPUT, EXIT_INTERNAL


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every registered subcommand."""
    parser = argparse.ArgumentParser(
        prog="needlewise",
        description="Microneedling treatment planning: decision support, not diagnosis.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS:
        child = sub.add_parser(command.NAME, help=command.HELP, description=command.HELP)
        command.configure(child)
        child.set_defaults(run=command.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``needlewise`` console script."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on bad arguments, which is our code too
        return int(exc.code or 0)
    if args.command is None:
        sys.stderr.write(
            "needlewise: the terminal UI is not built yet; use a subcommand (see --help)\n",
        )
        return EXIT_BAD_INPUT
    try:
        return int(args.run(args))
    except AssessmentError as exc:
        sys.stderr.write(
            f"needlewise: internal error, no result was produced: {exc}\n"
            "needlewise: this is a defect in needlewise, not in your input; please report it\n",
        )
        return EXIT_INTERNAL
