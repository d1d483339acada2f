"""The ``needlewise`` command. Subcommands import no Textual, so they start fast.

Exit codes (DESIGN.md section 2): 0 done; 1 ran and found failures; 2 unusable input.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from engine import (
    Assessor,
    Case,
    CaseError,
    InputError,
    Knowledge,
    KnowledgeError,
    compile_knowledge,
    load_case,
    load_knowledge,
)
from engine.casetest import load_case_test
from engine.schema import write_schemas
from knowledge import DEFAULT_KNOWLEDGE, KNOWLEDGE_ROOT
from tui.report import render_text

EXIT_OK = 0
EXIT_FAILURES = 1
EXIT_BAD_INPUT = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="needlewise",
        description="Microneedling treatment planning: decision support, not diagnosis.",
    )
    sub = parser.add_subparsers(dest="command")
    assess = sub.add_parser("assess", help="assess a case file and print the result")
    assess.add_argument("case", type=Path, help="case file (YAML or JSON)")
    assess.add_argument("--format", choices=("text", "json"), default="text")
    assess.add_argument(
        "--knowledge",
        type=Path,
        default=DEFAULT_KNOWLEDGE,
        help="knowledge directory (default: the bundled one)",
    )
    assess.add_argument("--color", choices=("auto", "always", "never"), default="auto")
    schema = sub.add_parser("schema", help="write the JSON Schemas of the knowledge files")
    schema.add_argument("--out", type=Path, default=KNOWLEDGE_ROOT / "schema")
    schema.add_argument(
        "--knowledge",
        type=Path,
        default=DEFAULT_KNOWLEDGE,
        help="knowledge whose vocabulary gives the case schemas",
    )
    check = sub.add_parser("check", help="validate a knowledge directory")
    check.add_argument("knowledge", type=Path, nargs="?", default=DEFAULT_KNOWLEDGE)
    return parser


def _problems(error: InputError) -> None:
    sys.stderr.write(error.format() + "\n")
    sys.stderr.write(f"needlewise: {len(error.errors)} error(s)\n")


def _colour(choice: str) -> bool:
    if choice == "always":
        return True
    if choice == "never" or os.environ.get("NO_COLOR"):
        return False
    return sys.stdout.isatty()


def _assess(args: argparse.Namespace) -> int:
    try:
        knowledge = load_knowledge(args.knowledge)
        compiled = compile_knowledge(knowledge)
        case = _load_any_case(knowledge, args.case)
    except (KnowledgeError, CaseError) as exc:
        _problems(exc)
        return EXIT_BAD_INPUT
    assessor = Assessor(compiled)
    try:
        result = assessor.assess(case)
    finally:
        assessor.close()
    if args.format == "json":
        sys.stdout.write(json.dumps(result.to_json(), indent=2, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(render_text(result, colour=_colour(args.color)))
    return EXIT_OK


def _load_any_case(knowledge: Knowledge, path: Path) -> Case:
    """A case file, or the ``case:`` of a knowledge case test (so tests can be assessed too)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return load_case(knowledge, path)  # reports the unreadable file as a located problem
    head = {line.split(":", 1)[0] for line in text.splitlines() if line and not line[0].isspace()}
    if {"case", "expect"} <= head:
        return load_case_test(knowledge, path).case
    return load_case(knowledge, path)


def _check(args: argparse.Namespace) -> int:
    try:
        knowledge = load_knowledge(args.knowledge)
        compile_knowledge(knowledge)
    except KnowledgeError as exc:
        _problems(exc)
        return EXIT_FAILURES
    for warning in knowledge.warnings:
        sys.stdout.write(warning.format() + "\n")
    sys.stdout.write(
        f"{knowledge.name} {knowledge.version}: {len(knowledge.rules)} rules, "
        f"{len(knowledge.catalogue)} codes, {len(knowledge.sources)} sources; "
        f"0 errors, {len(knowledge.warnings)} warning(s)\n",
    )
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``needlewise`` console script."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on bad arguments, which is our code too
        return int(exc.code or 0)
    if args.command == "assess":
        return _assess(args)
    if args.command == "check":
        return _check(args)
    if args.command == "schema":
        try:
            knowledge = load_knowledge(args.knowledge)
        except KnowledgeError as exc:
            _problems(exc)
            return EXIT_BAD_INPUT
        for path in write_schemas(args.out, knowledge):
            sys.stdout.write(f"wrote {path}\n")
        return EXIT_OK
    sys.stderr.write(
        "needlewise: the terminal UI is not built yet; use a subcommand (see --help)\n"
    )
    return EXIT_BAD_INPUT
