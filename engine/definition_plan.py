"""What the durable adapter reads off a ruleset definition before registering it.

The aliases each rule binds, in pattern order; which rules share identical conditions (and can
be registered once); and what the adapter needs beyond durable's grammar. Pure functions: no
durable import (``engine/runtime.py`` is the only module with one).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Final

from engine.durable_check import DefinitionIssue

SENTINEL_RULE: Final = "__nw_sentinel__"
"""The adapter's own rule (see ``RuleEngine``): no definition may use the name."""


def present_aliases(order: Sequence[str], matched: Mapping[str, Any]) -> list[str]:
    """Aliases durable bound, in pattern order (``any`` rules bind a subset)."""
    seen = [alias for alias in order if alias in matched]
    return seen + [alias for alias in matched if alias not in order]


def binding_orders(definition: Mapping[str, Any]) -> dict[str, tuple[tuple[str, ...], bool]]:
    """Rule id -> (binding aliases in pattern order, whether durable always binds all of them)."""
    orders = {}
    for rule_id, rule in definition.items():
        aliases: list[str] = []
        plain = "all" in rule
        pending: list[Any] = list(reversed(rule.get("all", rule.get("any", []))))
        while pending:
            ((alias, cond),) = pending.pop().items()
            if alias.endswith(("$all", "$any")):
                plain = False
                pending.extend(reversed(cond))
            elif not alias.endswith("$not"):
                aliases.append(alias)
        orders[rule_id] = (tuple(aliases), plain)
    return orders


def share_conditions(spec: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, tuple[str, ...]]]:
    """Register rules with identical conditions once; the action fires each of them.

    Such rules match exactly the same facts, so one durable rule whose action records a firing
    per member is equivalent, and saves durable's per-activation cost (the unconditional care
    rules all read the plan alone). Returns the spec to register and leader -> member ids.
    """
    leaders: dict[str, str] = {}
    members: dict[str, list[str]] = {}
    registered: dict[str, Any] = {}
    for rule_id, rule in spec.items():
        if "all" not in rule or rule_id == SENTINEL_RULE:
            registered[rule_id] = rule
            continue
        key = json.dumps(rule["all"], sort_keys=True)
        leader = leaders.setdefault(key, rule_id)
        members.setdefault(leader, []).append(rule_id)
        if leader == rule_id:
            registered[rule_id] = rule
    return registered, {k: tuple(v) for k, v in members.items() if len(v) > 1}


def adapter_issues(definition: Mapping[str, Any]) -> list[DefinitionIssue]:
    """What this adapter needs beyond durable's grammar."""
    issues = []
    given: object = definition
    for rule_id, rule in given.items() if isinstance(given, Mapping) else ():
        if not isinstance(rule, Mapping):
            continue  # check_definition reports it
        if rule_id == SENTINEL_RULE:
            msg = f"{SENTINEL_RULE!r} is the engine's own sentinel rule"
            issues.append(DefinitionIssue(rule_id=rule_id, code="runtime.reserved", message=msg))
        if rule.get("run") != rule_id:
            msg = "'run' must be the rule id: firings are recorded under the action name"
            issues.append(DefinitionIssue(rule_id=rule_id, code="runtime.run", message=msg))
        for key in ("count", "cap"):
            if key in rule:
                msg = f"{key!r} binds lists of matches, which ActionFn bindings cannot express"
                issue = DefinitionIssue(rule_id=rule_id, code="runtime.unsupported", message=msg)
                issues.append(issue)
    return issues
