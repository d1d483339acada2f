"""Stage 3: validated knowledge -> a durable_rules ruleset definition (plain, golden-testable data).

Pure: this module never imports durable. Each rule's action is named by its rule id; the runtime
binds the names to the recorder.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.durable_check import check_definition
from engine.errors import KnowledgeError, Problem
from engine.knowledge import Knowledge
from engine.logic import LogicRule
from engine.patterns import Pattern, Ref, Test
from engine.strata import stratify

PHASE_KIND = "$phase"
"""Kind of the gate facts asserted between phases (see durable-rules-notes section 3.3)."""
GATE_ALIAS = "phase_gate"

_OPS = {"lt": "$lt", "le": "$lte", "gt": "$gt", "ge": "$gte", "ne": "$neq"}


@dataclass(frozen=True, slots=True, kw_only=True)
class CompiledKnowledge:
    """The compiled ruleset and what the runtime and the evaluator need beside it."""

    knowledge: Knowledge
    definition: Mapping[str, Any]
    """durable_rules ruleset definition: rule id -> {all: [...], run: rule id}."""
    strata: Mapping[str, int]
    """Rule id -> phase in which it may first fire (absence tests wait for a gate)."""
    phases: int
    """Number of gate facts to assert after the input batch."""
    numeric_fields: Mapping[str, frozenset[str]]
    """Fact kind -> numeric fields (guarded against strings before they reach the engine)."""

    def rule(self, rule_id: str) -> LogicRule:
        """The logic rule behind a compiled rule id."""
        return self.knowledge.rule_index[rule_id]


def test_condition(test: Test) -> dict[str, Any]:
    """One field test as a durable condition."""
    field = test.field
    value = test.value
    if test.op == "is_a":
        values = value if isinstance(value, tuple) else (value,)
        options: list[dict[str, Any]] = [{"$iany": {"is_a": {"$i": v}}} for v in values]
        return options[0] if len(options) == 1 else {"$or": options}
    if test.op == "same_as":
        if not isinstance(value, Ref):  # pragma: no cover - the parser guarantees it
            msg = "same_as needs a reference"
            raise TypeError(msg)
        return {field: {value.alias: value.field}}
    if test.op == "known":
        return {"$ex" if value else "$nex": {field: 1}}
    if test.op == "in":
        values = value if isinstance(value, tuple) else (value,)
        if len(values) == 1:
            return {field: values[0]}
        return {"$or": [{field: v} for v in values]}
    if test.op == "not_in":
        values = value if isinstance(value, tuple) else (value,)
        parts: list[dict[str, Any]] = [{"$neq": {field: v}} for v in values]
        return parts[0] if len(parts) == 1 else {"$and": parts}
    if test.op == "eq":
        return {field: value}
    return {_OPS[test.op]: {field: value}}


def pattern_condition(pattern: Pattern) -> dict[str, Any]:
    """A pattern as a durable condition; the kind comes first so alpha nodes are shared."""
    parts: list[dict[str, Any]] = [{"kind": pattern.kind}]
    parts.extend(test_condition(t) for t in pattern.tests)
    return parts[0] if len(parts) == 1 else {"$and": parts}


def compile_rule(rule: LogicRule, stratum: int) -> dict[str, Any]:
    """One logic rule as a durable rule."""
    patterns: list[dict[str, Any]] = []
    if stratum > 0:
        patterns.append({GATE_ALIAS: {"$and": [{"kind": PHASE_KIND}, {"n": stratum}]}})
    for pattern in rule.patterns:
        alias = f"{pattern.alias}$not" if pattern.negated else pattern.alias
        patterns.append({alias: pattern_condition(pattern)})
    return {"all": patterns, "run": rule.id}


def compile_knowledge(knowledge: Knowledge) -> CompiledKnowledge:
    """Compile validated knowledge into a durable ruleset definition."""
    strata = stratify(knowledge.rules)
    # Only rules that test for absence need a gate; positive rules fire as soon as they match.
    gated = {
        r.id: strata[r.id] if any(p.negated for p in r.patterns) else 0 for r in knowledge.rules
    }
    definition = {r.id: compile_rule(r, gated[r.id]) for r in knowledge.rules}
    # durable accepts many mistakes silently (notes 5.5) and hangs past its fan-out limits
    # (notes 3.4): every limit is checked here, and reported at the rule that causes it.
    issues = check_definition(definition)
    if issues:
        raise KnowledgeError(
            [
                Problem(
                    code=issue.code,
                    message=f"compiled rule '{issue.rule_id}': {issue.message}",
                    location=knowledge.rule_index[issue.rule_id].location
                    if issue.rule_id in knowledge.rule_index
                    else knowledge.rules[0].location,
                    hint="the rule engine cannot run this; simplify or split the rule",
                )
                for issue in issues
            ],
        )
    phases = max(gated.values(), default=0)
    numeric = knowledge.vocabulary.numeric_fields()
    return CompiledKnowledge(
        knowledge=knowledge,
        definition=definition,
        strata=gated,
        phases=phases,
        numeric_fields=numeric,
    )
