"""``needlewise assess CASE``: assess a case and print the report or the JSON contract."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from engine import CaseError, KnowledgeError
from tui.commands.common import (
    EXIT_BAD_INPUT,
    EXIT_OK,
    add_knowledge_option,
    assessor_for,
    load_any_case,
    report_problems,
    use_colour,
)
from tui.report import render_text

NAME = "assess"
HELP = "assess a case file and print the result"


def configure(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``assess``."""
    parser.add_argument("case", type=Path, help="case file (YAML or JSON) or a knowledge case test")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument("--color", choices=("auto", "always", "never"), default="auto")
    add_knowledge_option(parser)


def run(args: argparse.Namespace) -> int:
    """Assess and print."""
    try:
        assessor = assessor_for(args.knowledge)
        case = load_any_case(assessor.knowledge, args.case)
    except (KnowledgeError, CaseError) as exc:
        report_problems(exc)
        return EXIT_BAD_INPUT
    try:
        result = assessor.assess(case)
    finally:
        assessor.close()
    if args.format == "json":
        sys.stdout.write(json.dumps(result.to_json(), indent=2, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(render_text(result, colour=use_colour(args.color)))
    return EXIT_OK
