"""``needlewise rules [DIR] [--code CODE] [--search TEXT]``: list rules with their sources.

Each rule (and depth-table row) with what it concludes, its sources and their tiers, and where it
is written. ``--code`` keeps the rules that can raise a code; ``--search`` keeps those whose id,
title, rationale, disputed note, conclusion or sources (ids and titles) contain the text.
"""

from __future__ import annotations

import argparse
import sys

from engine import Knowledge, KnowledgeError, load_knowledge
from engine.explain import rules_for_code
from engine.logic import CareOut, FindingOut, LimitOut, LogicRule, StateOut
from tui.commands.common import EXIT_BAD_INPUT, EXIT_OK, add_knowledge_argument, report_problems

NAME = "rules"
HELP = "list the rules with what they conclude and their sources (filter by code or text)"


def configure(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``rules``."""
    add_knowledge_argument(parser)
    parser.add_argument("--code", metavar="CODE", help="only rules that can raise this code")
    parser.add_argument(
        "--search",
        metavar="TEXT",
        help="only rules whose id, title, rationale, conclusion or sources contain TEXT",
    )


def concludes(knowledge: Knowledge, rule: LogicRule) -> str:
    """What a rule concludes, in a few words."""
    out = rule.output
    zone = ""
    if isinstance(out, (FindingOut, StateOut)) and out.zone is not None:
        zone = f" per zone ({out.zone})"
    if isinstance(out, FindingOut):
        entry = knowledge.catalogue.get(out.code)
        level = f" ({entry.level}, {entry.action})" if entry is not None else ""
        wait = f", wait {out.wait_days} days" if out.wait_days is not None else ""
        return f"finding {out.code}{level}{zone}{wait}"
    if isinstance(out, StateOut):
        return f"state {out.name}{zone}"
    if isinstance(out, CareOut):
        return f"{out.section.replace('_', ' ')} ({len(out.items)} item(s))"
    return _limit(out)


def _limit(out: LimitOut) -> str:
    if out.do_not_treat:
        return f"depth: do not treat ({out.do_not_treat})"
    if out.no_sourced_limit:
        return "depth: no sourced limit"
    limits = [
        f"{name} {value:g} mm"
        for name, value in (("soft", out.soft_mm), ("hard", out.hard_mm))
        if value is not None
    ]
    return "depth: " + ", ".join(limits)


def _haystack(knowledge: Knowledge, rule: LogicRule) -> str:
    sources = [knowledge.sources.get(s) for s in rule.sources]
    parts = [
        rule.id,
        rule.title,
        rule.rationale,
        rule.disputed or "",
        concludes(knowledge, rule),
        *rule.sources,
        *(s.title for s in sources if s is not None),
    ]
    return "\n".join(parts).lower()


def render_rule(knowledge: Knowledge, rule: LogicRule) -> str:
    """A rule in four lines: id and conclusion, title, sources with tiers, location."""
    cited = []
    for sid in rule.sources:
        src = knowledge.sources.get(sid)
        cited.append(f"{sid} [{src.tier}] {src.title}" if src is not None else sid)
    lines = [
        f"{rule.id} -> {concludes(knowledge, rule)}",
        f"    {rule.title}",
        *(f"    source {c}" for c in cited),
        f"    at {rule.location}",
    ]
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    """List the matching rules."""
    try:
        knowledge = load_knowledge(args.knowledge)
    except KnowledgeError as exc:
        report_problems(exc)
        return EXIT_BAD_INPUT
    rules = list(knowledge.rules)
    if args.code:
        if args.code not in knowledge.catalogue:
            sys.stderr.write(
                f"needlewise rules: '{args.code}' is not a catalogue code "
                f"(codes: {', '.join(knowledge.catalogue)})\n",
            )
            return EXIT_BAD_INPUT
        raising = {r.id for r in rules_for_code(knowledge, args.code)}
        rules = [r for r in rules if r.id in raising]
    if args.search:
        wanted = args.search.lower()
        rules = [r for r in rules if wanted in _haystack(knowledge, r)]
    for rule in rules:
        sys.stdout.write(render_rule(knowledge, rule))
    sys.stdout.write(f"{len(rules)} rule(s)\n")
    return EXIT_OK
