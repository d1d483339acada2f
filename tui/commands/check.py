"""``needlewise check [DIR]``: validate, lint and compile a knowledge directory.

Every problem is printed at once as ``file:line:col: severity code: message`` with a hint, then a
summary line. Exit 1 when there are errors (or, with ``--strict``, warnings), 0 otherwise.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from engine import KnowledgeError, compile_knowledge, load_knowledge
from engine.errors import Problem
from engine.lint import lint_knowledge, sort_key
from tui.commands.common import EXIT_FAILURES, EXIT_OK, add_knowledge_argument

NAME = "check"
HELP = "validate and lint a knowledge directory (every problem at once)"


def configure(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``check``."""
    add_knowledge_argument(parser)
    parser.add_argument("--strict", action="store_true", help="warnings fail the check too")


def problems_of(root: Path) -> tuple[str, list[Problem]]:
    """A title for the summary and every problem of the knowledge at ``root``, sorted."""
    try:
        knowledge = load_knowledge(root)
    except KnowledgeError as exc:
        return str(root), sorted(exc.problems, key=sort_key)
    problems = list(lint_knowledge(knowledge))
    try:
        compile_knowledge(knowledge)
    except KnowledgeError as exc:  # engine limits the compiled ruleset would exceed
        problems.extend(exc.problems)
    title = (
        f"{knowledge.name} {knowledge.version}: {len(knowledge.rules)} rules, "
        f"{len(knowledge.catalogue)} codes, {len(knowledge.sources)} sources"
    )
    return title, sorted(problems, key=sort_key)


def run(args: argparse.Namespace) -> int:
    """Print every problem and a summary; exit 1 on errors (or warnings with --strict)."""
    title, problems = problems_of(args.knowledge)
    for problem in problems:
        sys.stdout.write(problem.format() + "\n")
    errors = sum(1 for p in problems if p.severity == "error")
    warnings = len(problems) - errors
    sys.stdout.write(f"{title}; {_count(errors, 'error')}, {_count(warnings, 'warning')}\n")
    if errors or (args.strict and warnings):
        return EXIT_FAILURES
    return EXIT_OK


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")
