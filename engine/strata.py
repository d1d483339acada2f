"""Stratification: rules that test for absence run only after what they negate is complete."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from engine.errors import KnowledgeError, Problem
from engine.logic import CareOut, FindingOut, LimitOut, LogicRule, StateOut
from engine.patterns import Pattern

Key = tuple[str, str]
"""(fact kind, code/name/rule id) of a derived fact."""


def derived_key(rule: LogicRule) -> Key:
    """The key of the facts a rule derives."""
    out = rule.output
    match out:
        case FindingOut():
            return ("finding", out.code)
        case StateOut():
            return ("state", out.name)
        case CareOut():
            return ("care", rule.id)
        case LimitOut():
            return ("limit", rule.id)


def pattern_keys(pattern: Pattern, all_keys: Iterable[Key]) -> set[Key]:
    """The derived keys a pattern can match (empty for input kinds)."""
    selector = {"finding": "code", "state": "name"}.get(pattern.kind)
    candidates = {k for k in all_keys if k[0] == pattern.kind}
    if selector is None:
        return candidates
    for test in pattern.tests:
        if test.field == selector and test.op in {"eq", "in"}:
            values = test.value if isinstance(test.value, tuple) else (test.value,)
            return {k for k in candidates if k[1] in values}
    return candidates


def stratify(rules: Sequence[LogicRule]) -> dict[str, int]:
    """Rule id -> stratum: >= the strata of what it uses, > the strata of what it negates."""
    keys = {derived_key(r) for r in rules}
    producers: dict[Key, list[str]] = {}
    for r in rules:
        producers.setdefault(derived_key(r), []).append(r.id)
    deps = {r.id: [(pattern_keys(p, keys), p.negated) for p in r.patterns] for r in rules}
    stratum = dict.fromkeys((r.id for r in rules), 0)
    limit = len(rules) + 1
    changed = True
    while changed:
        changed = False
        for r in rules:
            need = 0
            for used, negated in deps[r.id]:
                for key in used:
                    for producer in producers.get(key, ()):
                        need = max(need, stratum[producer] + (1 if negated else 0))
            if need > stratum[r.id]:
                stratum[r.id] = need
                changed = True
                if need > limit:
                    raise KnowledgeError(
                        [
                            Problem(
                                code="rule.negation_cycle",
                                message=f"rule '{r.id}' depends on its own absence through 'not'",
                                location=r.location,
                                hint="a rule cannot (indirectly) negate what it concludes",
                            ),
                        ],
                    )
    return stratum
