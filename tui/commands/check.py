"""``needlewise check [DIR]``: validate and compile a knowledge directory."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from engine import KnowledgeError, compile_knowledge, load_knowledge
from knowledge import DEFAULT_KNOWLEDGE
from tui.commands.common import EXIT_FAILURES, EXIT_OK, report_problems

NAME = "check"
HELP = "validate a knowledge directory"


def configure(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``check``."""
    parser.add_argument("knowledge", type=Path, nargs="?", default=DEFAULT_KNOWLEDGE)


def run(args: argparse.Namespace) -> int:
    """Print every problem; exit 1 on errors."""
    try:
        knowledge = load_knowledge(args.knowledge)
        compile_knowledge(knowledge)
    except KnowledgeError as exc:
        report_problems(exc)
        return EXIT_FAILURES
    for warning in knowledge.warnings:
        sys.stdout.write(warning.format() + "\n")
    sys.stdout.write(
        f"{knowledge.name} {knowledge.version}: {len(knowledge.rules)} rules, "
        f"{len(knowledge.catalogue)} codes, {len(knowledge.sources)} sources; "
        f"0 errors, {len(knowledge.warnings)} warning(s)\n",
    )
    return EXIT_OK
