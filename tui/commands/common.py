"""Shared pieces of the subcommands: exit codes, problem output, loading knowledge and cases."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from engine import (
    Assessor,
    Case,
    InputError,
    Knowledge,
    compile_knowledge,
    load_case,
    load_knowledge,
)
from engine.casetest import load_case_test
from knowledge import DEFAULT_KNOWLEDGE

EXIT_OK = 0
"""The command ran and found nothing wrong."""
EXIT_FAILURES = 1
"""The command ran and found failures (check errors, failing tests, diff changes)."""
EXIT_BAD_INPUT = 2
"""Unusable input: bad case file, bad knowledge, bad arguments."""
EXIT_INTERNAL = 3
"""The engine failed on valid input (a defect, never bad input): nothing was concluded."""


def add_knowledge_option(parser: argparse.ArgumentParser) -> None:
    """``--knowledge DIR`` (default: the bundled knowledge)."""
    parser.add_argument(
        "--knowledge",
        type=Path,
        default=DEFAULT_KNOWLEDGE,
        help="knowledge directory (default: the bundled one)",
    )


def add_knowledge_argument(
    parser: argparse.ArgumentParser,
    help_text: str = "knowledge directory (default: the bundled one)",
) -> None:
    """An optional positional ``DIR`` (default: the bundled knowledge)."""
    parser.add_argument(
        "knowledge",
        type=Path,
        nargs="?",
        default=DEFAULT_KNOWLEDGE,
        metavar="DIR",
        help=help_text,
    )


def report_problems(error: InputError) -> None:
    """Every problem on stderr in the house format, then a count."""
    sys.stderr.write(error.format() + "\n")
    sys.stderr.write(f"needlewise: {len(error.errors)} error(s)\n")


def use_colour(choice: str) -> bool:
    """Resolve ``--color auto|always|never`` (NO_COLOR is honoured)."""
    if choice == "always":
        return True
    if choice == "never" or os.environ.get("NO_COLOR"):
        return False
    return sys.stdout.isatty()


def load_any_case(knowledge: Knowledge, path: Path) -> Case:
    """A case file, or the ``case:`` of a knowledge case test (so tests can be assessed too)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return load_case(knowledge, path)  # reports the unreadable file as a located problem
    head = {line.split(":", 1)[0] for line in text.splitlines() if line and not line[0].isspace()}
    if {"case", "expect"} <= head:
        return load_case_test(knowledge, path).case
    return load_case(knowledge, path)


def assessor_for(path: Path) -> Assessor:
    """Load, validate and compile a knowledge directory (raises KnowledgeError)."""
    return Assessor(compile_knowledge(load_knowledge(path)))
