"""Render explanations as a text tree (terminal) or Markdown (reports). JSON is asdict()."""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
from typing import Any

from engine.assessment import Trace
from engine.explain import (
    Condition,
    FactExplanation,
    How,
    HowNode,
    RuleRef,
    WhyAsked,
    WhyNot,
    how_decision,
    how_depth,
    how_finding,
    why_asked,
    why_not,
)
from engine.knowledge import Knowledge
from engine.suggest import Suggestion
from engine.whatif import Difference, WhatIf


def to_jsonable(value: Any) -> Any:  # noqa: ANN401
    """Dataclasses, tuples and dates to JSON-ready data."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
        for name in ("failed", "unknown", "empty"):
            if hasattr(type(value), name) and isinstance(getattr(type(value), name), property):
                out[name] = getattr(value, name)
        return out
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def _rule_lines(rule: RuleRef, indent: str, *, markdown: bool) -> list[str]:
    bullet = "- " if markdown else ""
    lines = [f"{indent}{bullet}why: {rule.rationale.strip()}"]
    for src in rule.sources:
        where = f" <{src.address[0]}>" if src.address else ""
        lines.append(f"{indent}{bullet}source {src.id} [{src.tier}]: {src.title}{where}")
    if rule.disputed:
        lines.append(f"{indent}{bullet}disputed: {rule.disputed.strip()}")
    return lines


def _fact_lines(alias: str, fact: FactExplanation, depth: int, *, markdown: bool) -> list[str]:
    pad = "  " * depth
    bullet = "- " if markdown else "<- "
    lines = [f"{pad}{bullet}{alias}: {fact.summary}"]
    for path, value in fact.answers:
        if value is None or isinstance(value, (list, tuple)):
            continue
        lines.append(f"{pad}    answer {path} = {value}")
    for node in fact.derived_by:
        lines.extend(_node_lines(node, depth + 2, markdown=markdown))
    return lines


def _node_lines(node: HowNode, depth: int, *, markdown: bool) -> list[str]:
    pad = "  " * depth
    head = f"{pad}{'- ' if markdown else ''}rule {node.rule.id}: {node.rule.title}"
    lines = [f"**{head.strip()}**" if markdown and depth == 0 else head]
    lines.extend(_rule_lines(node.rule, pad + "    ", markdown=False))
    for alias, fact in node.premises:
        lines.extend(_fact_lines(alias, fact, depth + 1, markdown=markdown))
    return lines


def render_how(how: How, *, markdown: bool = False) -> str:
    """A HOW tree: the conclusion, each rule with its sources, down to the intake answers."""
    lines = [f"## HOW {how.target}" if markdown else f"HOW {how.target}", how.summary, ""]
    for node in how.nodes:
        lines.extend(_node_lines(node, 0, markdown=markdown))
        lines.append("")
    lines.extend(render_how(part, markdown=markdown) for part in how.determined_by)
    return "\n".join(lines).rstrip() + "\n"


def render_why_not(why: WhyNot, *, markdown: bool = False) -> str:
    """Each rule that could raise the target, nearest misses first, with every condition."""
    state = "was raised" if why.raised else "was not raised"
    lines = [
        f"## WHY NOT {why.target}" if markdown else f"WHY NOT {why.target}",
        f"{why.target} {state}.",
        "",
    ]
    marks = {"held": "ok  ", "failed": "FAIL", "unknown": "??  "}
    for rule in why.rules:
        verdict = "fired" if rule.fired else f"{rule.failed} failed, {rule.unknown} unknown"
        lines.append(
            f"{'- ' if markdown else ''}rule {rule.rule.id} ({verdict}): {rule.rule.title}"
        )
        for cond in rule.conditions:
            where = f" [{cond.path}]" if cond.path else ""
            lines.append(f"    {marks[cond.status]} {_condition(cond)}{where}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _condition(cond: Condition) -> str:
    if cond.field == "(entry)":
        if cond.status == "failed":
            return f"a {cond.expected} entry: none in the case"
        return f"a {cond.expected} entry: the list is unanswered"
    if cond.field == "(absence)":
        if cond.status == "held":
            return f"no {cond.pattern[4:]} with {cond.expected}: none found"
        return f"no {cond.pattern[4:]} with {cond.expected}: found {cond.actual}"
    actual = "unanswered" if cond.status == "unknown" and cond.actual is None else repr(cond.actual)
    return f"{cond.pattern}.{cond.field} {cond.op} {cond.expected!r}: actual {actual}"


def render_difference(diff: Difference) -> list[str]:
    """The lines of a difference (empty: no change)."""
    if diff.empty:
        return ["no difference"]
    lines = []
    if diff.decision:
        lines.append(f"decision: {diff.decision[0]} -> {diff.decision[1]}")
    for change in diff.findings:
        if change.before is None:
            lines.append(f"+ {change.code} ({change.after})")
        elif change.after is None:
            lines.append(f"- {change.code} (was {change.before})")
        else:
            note = f"; {change.note}" if change.note else ""
            lines.append(f"~ {change.code}: {change.before} -> {change.after}{note}")
    lines.extend(f"depth {d.zone}: {d.before} -> {d.after}" for d in diff.depth)
    lines.extend(f"+ question {m}" for m in diff.missing_added)
    lines.extend(f"- question {m}" for m in diff.missing_removed)
    return lines


def render_what_if(result: WhatIf, *, markdown: bool = False) -> str:
    """The changes and their effect."""
    title = "## WHAT IF" if markdown else "WHAT IF"
    lines = [title, "changes: " + ("; ".join(str(c) for c in result.changes) or "none")]
    lines.extend(
        ("  " if not markdown else "- ") + line for line in render_difference(result.difference)
    )
    return "\n".join(lines) + "\n"


def render_suggestions(suggestions: tuple[Suggestion, ...], *, markdown: bool = False) -> str:
    """Verified suggestions with their effect."""
    lines = ["## SUGGESTIONS" if markdown else "SUGGESTIONS"]
    if not suggestions:
        lines.append("no plan change removes or lowers a finding")
    for s in suggestions:
        lines.append(f"{'- ' if markdown else '* '}{s.code}: {s.text}")
        if s.changes:
            lines.append("    changes: " + "; ".join(str(c) for c in s.changes))
        lines.extend("    " + line for line in render_difference(s.effect))
    return "\n".join(lines) + "\n"


def render_why_asked(why: WhyAsked, *, markdown: bool = False) -> str:
    """The rules and codes a question feeds."""
    lines = [f"## WHY ASKED {why.field}" if markdown else f"WHY ASKED {why.field}", why.question]
    if why.help:
        lines.append(why.help)
    if why.could_raise_now:
        lines.append("unanswered here; its answer could raise: " + ", ".join(why.could_raise_now))
    lines.append(f"rules that depend on it ({len(why.rules)}):")
    lines.extend(
        f"{'- ' if markdown else '  '}{r.rule.id}"
        + (f" -> {r.code}" if r.code else "")
        + f": {r.rule.title}"
        for r in why.rules
    )
    return "\n".join(lines) + "\n"


def explain_requested(
    knowledge: Knowledge,
    trace: Trace,
    args: argparse.Namespace,
    *,
    markdown: bool,
) -> tuple[Any, str]:
    """The explanation the command line asks for, and its text.

    ``--finding``, ``--depth``, ``--why-not`` or ``--why-asked`` (when the command has it);
    otherwise HOW of the decision.
    """
    assessment = trace.assessment
    result: Any
    if args.finding:
        result = how_finding(knowledge, assessment, args.finding)
        return result, render_how(result, markdown=markdown)
    if args.depth:
        result = how_depth(knowledge, assessment, args.depth)
        return result, render_how(result, markdown=markdown)
    if args.why_not:
        result = why_not(knowledge, assessment, trace.evaluation, args.why_not)
        return result, render_why_not(result, markdown=markdown)
    if getattr(args, "why_asked", None):
        result = why_asked(knowledge, assessment, args.why_asked)
        return result, render_why_asked(result, markdown=markdown)
    result = how_decision(knowledge, assessment)
    return result, render_how(result, markdown=markdown)
