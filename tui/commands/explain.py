"""``needlewise explain CASE``: how, why not, what if, suggestions, why asked."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

from engine import Case, CaseError, Knowledge, KnowledgeError, case_from_data
from engine.explain import ExplainError
from engine.suggest import suggest
from engine.whatif import ChangeError, parse_change, shift_days, what_if
from tui.commands.common import (
    EXIT_BAD_INPUT,
    EXIT_OK,
    add_knowledge_option,
    assessor_for,
    load_any_case,
    report_problems,
)
from tui.explain_render import (
    explain_requested,
    render_suggestions,
    render_what_if,
    to_jsonable,
)

NAME = "explain"
HELP = "explain an assessment: how, why not, what if, suggestions, why asked"


def configure(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``explain``."""
    parser.add_argument("case", type=Path)
    what = parser.add_mutually_exclusive_group()
    what.add_argument("--finding", metavar="CODE", help="HOW a finding was raised")
    what.add_argument("--depth", metavar="ZONE", help="HOW a zone's depth verdict was reached")
    what.add_argument("--why-not", metavar="CODE_OR_RULE", help="why a code or rule did not fire")
    what.add_argument("--suggest", action="store_true", help="smallest plan changes, verified")
    what.add_argument("--why-asked", metavar="FIELD", help="what a question's answer can change")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="PATH=VALUE",
        help="WHAT IF: change an answer or the plan (repeatable; VALUE is YAML; "
        "~unset makes it unanswered)",
    )
    parser.add_argument("--on", metavar="DATE", help="consultation date to use (YYYY-MM-DD)")
    parser.add_argument("--format", choices=("text", "json", "markdown"), default="text")
    add_knowledge_option(parser)


def run(args: argparse.Namespace) -> int:
    """Explain and print."""
    try:
        assessor = assessor_for(args.knowledge)
        case = load_any_case(assessor.knowledge, args.case)
    except (KnowledgeError, CaseError) as exc:
        report_problems(exc)
        return EXIT_BAD_INPUT
    try:
        knowledge = assessor.knowledge
        if args.on:
            case = _on(knowledge, case, args.on)
        markdown = args.format == "markdown"
        result: Any
        if args.set:
            result = what_if(assessor, case, [parse_change(c) for c in args.set])
            text = render_what_if(result, markdown=markdown)
        elif args.suggest:
            result = suggest(assessor, case)
            text = render_suggestions(result, markdown=markdown)
        else:
            result, text = explain_requested(
                knowledge, assessor.trace(case), args, markdown=markdown
            )
    except (ExplainError, ChangeError, ValueError) as exc:
        sys.stderr.write(f"needlewise explain: {exc}\n")
        return EXIT_BAD_INPUT
    except CaseError as exc:
        report_problems(exc)
        return EXIT_BAD_INPUT
    finally:
        assessor.close()
    if args.format == "json":
        sys.stdout.write(json.dumps(to_jsonable(result), indent=2, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(text)
    return EXIT_OK


def _on(knowledge: Knowledge, case: Case, text: str) -> Case:
    """The case as it stands on another date: day counts move with the calendar."""
    try:
        date = dt.date.fromisoformat(text)
    except ValueError as exc:
        msg = f"--on takes a date YYYY-MM-DD, not '{text}'"
        raise ChangeError(msg) from exc
    data = dict(case.raw or {})
    data["consultation_date"] = case.consultation_date.isoformat()
    moved = shift_days(knowledge, data, (date - case.consultation_date).days)
    return case_from_data(knowledge, moved, file=case.file, today=date)
