"""Lint a durable_rules ruleset definition before durable sees it (pure Python: no durable import).

durable_rules 2.0.28 accepts many mistakes silently (durable-rules-notes sections 3.4 and 5.5, and
the measurements recorded next to each check below): a second key in a condition is ignored, a
reference to an unknown or later alias makes a join always true, a negative ``pri`` wraps to the
lowest priority, a pattern that matches the session state fact loops forever, and more than 511
distinct sibling conditions under one alpha node hang the process. This module rejects all of
those, and simulates durable's alpha-network sharing (``rete.c``: ``findAlpha``/``linkAlpha``)
closely enough to count each node's fan-out against the C constants.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

MAX_RULES: Final = 4096
"""``MAX_ACTIONS`` (rete.c): one more rule is error 106."""
MAX_PATTERNS: Final = 16
"""``MAX_MESSAGE_FRAMES`` (state.h): a 17th pattern fails every assert with error 304."""
MAX_SIBLINGS: Final = 512
"""``NEXT_BUCKET_LENGTH``: a node whose hashset is full hangs every later lookup (GIL held)."""
MAX_CHAIN_PATTERNS: Final = 256
"""``BETA_LIST_LENGTH``: patterns whose condition chain ends on one node (error 108 beyond)."""
MAX_LIST: Final = 128
"""``NEXT_LIST_LENGTH``: ``$nex`` children plus ``$or`` links under one node (error 107)."""
MAX_STACK: Final = 64
"""``MAX_STACK_SIZE`` (events.c): alpha nodes matching one fact at once (error 303 at assert)."""
MAX_EXPRESSIONS: Final = 32
"""``MAX_SEQUENCE_EXPRESSIONS``: ``$and``/``$or`` markers and join tests per pattern (113)."""
MAX_SETTING: Final = 65535
"""``pri``/``count``/``cap`` are read into an unsigned short: -1 becomes 65535 (runs last)."""

RULE_KEYS: Final = frozenset({"all", "any", "pri", "count", "cap", "dist", "run"})
_COMPARE: Final = frozenset({"$lt", "$lte", "$gt", "$gte", "$neq"})
_REGEX: Final = frozenset({"$mt", "$imt"})
_EXISTS: Final = frozenset({"$ex", "$nex"})
_BOOLEAN: Final = frozenset({"$and", "$or"})
_ARRAY: Final = frozenset({"$iany", "$iall"})
_FIELD_OPS: Final = _COMPARE | _REGEX | _EXISTS | _ARRAY
_ARITHMETIC: Final = frozenset({"$add", "$sub", "$mul", "$div"})
_STATE_FIELDS: Final = frozenset({"sid", "id", "$s"})
_SUFFIXES: Final = ("$all", "$any", "$not")
_INT64: Final = 2**63

Path = tuple[str | int, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class DefinitionIssue:
    """One problem in a durable ruleset definition."""

    rule_id: str
    """The rule it is in; empty for problems of the whole ruleset."""
    code: str
    """Stable code, ``durable.<what>``."""
    message: str
    """What was found and what was expected."""
    path: Path = ()
    """Where inside the rule, e.g. ``("all", 1, "p", "$and", 0)``."""


class InvalidDefinition(ValueError):  # noqa: N818 - the name is the public contract
    """A definition that durable would reject, misread or choke on."""

    def __init__(self, issues: Sequence[DefinitionIssue]) -> None:
        """Keep every issue and list them all in the message."""
        self.issues = tuple(issues)
        lines = "\n  ".join(f"{i.rule_id or '<ruleset>'}: {i.code}: {i.message}" for i in issues)
        super().__init__(f"invalid durable ruleset definition:\n  {lines}")


def check_definition(definition: Mapping[str, Any]) -> list[DefinitionIssue]:
    """Return every issue of one ruleset definition (rule id -> rule), in rule order."""
    checker = _Checker()
    given: object = definition
    if not isinstance(given, Mapping):
        checker.add("", "durable.definition_type", "expected a mapping rule id -> rule", ())
        return checker.issues
    if len(definition) > MAX_RULES:
        msg = f"{len(definition)} rules; durable holds at most {MAX_RULES} per ruleset"
        checker.add("", "durable.too_many_rules", msg, ())
    for rule_id, rule in definition.items():
        checker.rule(rule_id, rule)
    return checker.issues


def assert_valid(definition: Mapping[str, Any]) -> None:
    """Raise InvalidDefinition with all issues unless the definition is clean."""
    issues = check_definition(definition)
    if issues:
        raise InvalidDefinition(issues)


def _where(path: Path) -> str:
    text = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)
    return text.lstrip(".") or "rule"


def _canon(value: object) -> tuple[Any, ...] | None:
    """The identity durable's ``compareValue`` gives an operand; None when it never shares one."""
    if isinstance(value, bool):
        return ("b", value)
    if isinstance(value, int | float | str):
        return (type(value).__name__, value)
    if isinstance(value, Mapping) and len(value) == 1:
        ((name, inner),) = value.items()
        if name not in _ARITHMETIC:
            return ("ref", name, inner)
    return None  # null, arithmetic: a new node every time (rete.c compareValue returns 0)


class _Node:
    """One alpha node of the simulated network, with the counters durable bounds."""

    __slots__ = ("array", "beta", "eq_fields", "groups", "hashed", "listed", "other", "reported")

    def __init__(self) -> None:
        self.hashed: dict[tuple[Any, ...] | int, _Node] = {}
        self.listed: dict[tuple[Any, ...] | int, _Node] = {}
        self.beta = 0
        self.eq_fields: set[str] = set()
        self.other = 0
        self.groups: dict[str, int] = {}
        self.array: _Node | None = None
        self.reported: set[str] = set()

    def stack(self) -> int:
        """Children one fact can reach at once: exclusive equalities count once per field."""
        groups = max(self.groups.values(), default=0)  # identical $iany tests all match together
        return len(self.listed) + self.other + len(self.eq_fields) + groups


class _Checker:
    """Walks rules, records issues, and builds the simulated alpha network."""

    def __init__(self) -> None:
        self.issues: list[DefinitionIssue] = []
        self.root = _Node()
        self._unique = 0
        self._rule = ""

    def add(self, rule_id: str, code: str, message: str, path: Path) -> None:
        self.issues.append(DefinitionIssue(rule_id=rule_id, code=code, message=message, path=path))

    def _issue(self, code: str, path: Path, message: str) -> None:
        self.add(self._rule, code, f"{_where(path)}: {message}", path)

    # ---- rules -------------------------------------------------------------------------------

    def rule(self, rule_id: object, rule: object) -> None:
        self._rule = str(rule_id)
        if not isinstance(rule_id, str) or not rule_id:
            self._issue("durable.rule_id", (), "a rule id must be a non-empty string")
        if not isinstance(rule, Mapping):
            self._issue("durable.rule_type", (), f"expected a mapping, got {type(rule).__name__}")
            return
        for key in rule:
            if key not in RULE_KEYS:
                allowed = ", ".join(sorted(RULE_KEYS))
                self._issue("durable.unknown_key", (key,), f"unknown key (allowed: {allowed})")
        self._settings(rule)
        if not isinstance(rule.get("run"), str) or not rule.get("run"):
            self._issue("durable.run", ("run",), "expected the action name as a non-empty string")
        seqs = [k for k in ("all", "any") if k in rule]
        if len(seqs) != 1:
            self._issue("durable.patterns", (), "expected exactly one of 'all' or 'any'")
            return
        key = seqs[0]
        patterns = rule[key]
        if not isinstance(patterns, list) or not patterns:
            self._issue("durable.patterns", (key,), "expected a non-empty list of patterns")
            return
        aliases = _aliases(patterns)
        for alias in aliases.duplicates:
            self._issue("durable.alias", (key,), f"alias {alias!r} is used twice in one rule")
        if key == "all":
            size = self._sequence(patterns, (key,), [], aliases, top=True)
        else:
            size = self._alternatives(patterns, (key,), [], aliases)
        if size > MAX_PATTERNS:
            msg = f"{size} patterns in one match; durable holds {MAX_PATTERNS} (error 304)"
            self._issue("durable.too_many_patterns", (key,), msg)

    def _settings(self, rule: Mapping[str, Any]) -> None:
        for key, low in (("pri", 0), ("count", 1), ("cap", 1)):
            if key not in rule:
                continue
            value = rule[key]
            if isinstance(value, bool) or not isinstance(value, int):
                msg = f"expected an int, got {type(value).__name__} {value!r}"
                self._issue(f"durable.{key}_type", (key,), msg)
            elif not low <= value <= MAX_SETTING:
                msg = f"{value} is outside {low}..{MAX_SETTING} (durable wraps it silently)"
                self._issue(f"durable.{key}_range", (key,), msg)
        if "count" in rule and "cap" in rule:
            self._issue("durable.count_cap", ("count",), "'count' and 'cap' together never fire")
        if "dist" in rule and (type(rule["dist"]) is not int or rule["dist"] not in {0, 1}):
            self._issue("durable.dist", ("dist",), f"expected 0 or 1, got {rule['dist']!r}")

    # ---- patterns ------------------------------------------------------------------------------

    def _sequence(
        self, patterns: object, path: Path, bound: list[str], names: _Names, *, top: bool = False
    ) -> int:
        """Check an ``all`` sequence; returns its pattern count (what MAX_PATTERNS bounds)."""
        if not isinstance(patterns, list) or not patterns:
            self._issue("durable.patterns", path, "expected a non-empty list of patterns")
            return 0
        size = 0
        for index, pattern in enumerate(patterns):
            where = (*path, index)
            if not isinstance(pattern, Mapping) or len(pattern) != 1:
                self._issue("durable.pattern_shape", where, "expected one {alias: condition}")
                continue
            ((alias, cond),) = pattern.items()
            where = (*where, alias)
            base, suffix = _split(alias)
            if not base:
                self._issue("durable.alias", where, "an alias needs a name (error 109)")
            if suffix == "$all":
                size += self._sequence(cond, where, bound, names)
            elif suffix == "$any":
                size += self._alternatives(cond, where, bound, names)
            else:
                size += 1
                if suffix == "$not" and top and index == 0:
                    msg = "a '$not' pattern first in a rule never fires (issue #94)"
                    self._issue("durable.not_first", where, msg)
                self._pattern(cond, where, bound, base, names, negated=suffix == "$not")
                if suffix is None:
                    bound.append(base)
        return size

    def _alternatives(self, patterns: object, path: Path, bound: list[str], names: _Names) -> int:
        if not isinstance(patterns, list) or not patterns:
            self._issue("durable.patterns", path, "expected a non-empty list of alternatives")
            return 0
        # Each alternative binds its own aliases: none is visible to another one.
        return max(self._sequence([p], path, list(bound), names) for p in patterns)

    def _pattern(
        self,
        cond: object,
        path: Path,
        bound: list[str],
        alias: str,
        names: _Names,
        *,
        negated: bool,
    ) -> None:
        before = len(self.issues)
        scope = _Scope(bound=tuple(bound), own=alias, names=names)
        exprs = self._condition(cond, path, scope, array=False)
        if len(self.issues) > before or not isinstance(cond, Mapping):
            return  # the network would be built from a misread condition
        if exprs >= MAX_EXPRESSIONS:
            msg = f"{exprs} $and/$or markers and join tests; durable holds {MAX_EXPRESSIONS - 1}"
            self._issue("durable.expressions", path, msg)
        if not negated and _matches_state(cond):
            msg = (
                "can match durable's session state fact, re-asserted after every action:"
                " the rule loops forever; test a field such as 'kind'"
            )
            self._issue("durable.matches_state", path, msg)
        end = self._alpha(cond, path, self.root, array=False)
        end.beta += 1
        self._limits(end, path)

    # ---- conditions --------------------------------------------------------------------------

    def _condition(self, cond: object, path: Path, scope: _Scope, *, array: bool) -> int:
        """Validate one condition; returns the number of expressions durable stores for it."""
        if not isinstance(cond, Mapping) or len(cond) != 1:
            msg = (
                "expected a single-key mapping {field: value} or {operator: {field: value}};"
                " durable reads only the first key"
            )
            self._issue("durable.condition_shape", path, msg)
            return 0
        ((key, value),) = cond.items()
        where = (*path, key)
        if key in _BOOLEAN:
            if not isinstance(value, list) or not value:
                self._issue("durable.condition_shape", where, "expected a non-empty list")
                return 0
            subs = (
                self._condition(c, (*where, i), scope, array=array) for i, c in enumerate(value)
            )
            return 2 + sum(subs)
        if key in _FIELD_OPS:
            if not isinstance(value, Mapping) or len(value) != 1:
                msg = f"expected {{{key}: {{field: value}}}} with exactly one field"
                self._issue("durable.condition_shape", where, msg)
                return 0
            ((field, operand),) = value.items()
            self._field(field, where, array=array)
            return self._operand_of(key, operand, (*where, field), scope)
        if not self._field(key, path, array=array):
            return 0
        return self._value(operand=value, path=where, scope=scope, ordered=False)

    def _field(self, field: object, path: Path, *, array: bool) -> bool:
        """Report a bad field name; False when the rest of the condition is unreadable."""
        if not isinstance(field, str) or not field:
            self._issue("durable.field", path, "a field name must be a non-empty string")
        elif field.startswith("$") and not (array and (field == "$i" or field.startswith("$i."))):
            self._issue("durable.unknown_operator", (*path, field), f"unknown operator {field!r}")
            return False
        elif field in _STATE_FIELDS:
            self._issue("durable.field", (*path, field), f"{field!r} is durable's own field")
        return True

    def _operand_of(self, op: str, operand: object, path: Path, scope: _Scope) -> int:
        if op in _EXISTS:
            if type(operand) is not int or operand != 1:
                self._issue("durable.value_type", path, f"{op} expects 1, got {operand!r}")
            return 0
        if op in _ARRAY:
            inner = _Scope(bound=(), own="", names=scope.names, array=True)
            return self._condition(operand, path, inner, array=True)
        if op in _REGEX:
            if not isinstance(operand, str):
                self._issue("durable.value_type", path, f"{op} expects a regex string (error 102)")
            else:
                try:
                    re.compile(operand)
                except re.error as exc:
                    msg = f"invalid regex {operand!r}: {exc} (durable accepts it and misreads it)"
                    self._issue("durable.regex", path, msg)
            return 0
        return self._value(operand=operand, path=path, scope=scope, ordered=op != "$neq")

    def _value(self, *, operand: object, path: Path, scope: _Scope, ordered: bool) -> int:
        if isinstance(operand, list | tuple):
            msg = "list literal (error 102): use $or of equalities, or $iany on a list field"
            self._issue("durable.list_literal", path, msg)
            return 0
        if isinstance(operand, Mapping):
            return self._expression(operand, path, scope)
        if operand is None or isinstance(operand, bool):
            if ordered:
                self._issue("durable.value_type", path, f"{operand!r} cannot be ordered")
            return 0
        if isinstance(operand, str):
            return 0
        if isinstance(operand, int) and abs(operand) >= _INT64:
            self._issue("durable.value_type", path, f"{operand} does not fit in 64 bits")
        elif isinstance(operand, float) and not math.isfinite(operand):
            self._issue("durable.value_type", path, f"{operand} is not a JSON number")
        elif not isinstance(operand, int | float):
            msg = f"expected a JSON scalar or a reference, got {type(operand).__name__}"
            self._issue("durable.value_type", path, msg)
        return 0

    def _expression(self, operand: Mapping[str, Any], path: Path, scope: _Scope) -> int:
        if len(operand) != 1:
            msg = "a reference is one {alias: field}, {'$m': field} or {'$add'|...: {'$l','$r'}}"
            self._issue("durable.reference_shape", path, msg)
            return 0
        ((name, inner),) = operand.items()
        where = (*path, name)
        if scope.array:
            msg = "references and expressions inside $iany/$iall are not supported (error 102)"
            self._issue("durable.reference", where, msg)
            return 0
        if name in _ARITHMETIC:
            if not isinstance(inner, Mapping) or set(inner) != {"$l", "$r"}:
                self._issue("durable.expression_shape", where, "expected {'$l': ..., '$r': ...}")
                return 0
            for side in ("$l", "$r"):
                self._value(operand=inner[side], path=(*where, side), scope=scope, ordered=True)
            return 1
        if not isinstance(inner, str) or not inner:
            self._issue("durable.reference_shape", where, "the referenced field must be a string")
        elif name == "$m":
            return 1
        elif name.startswith("$"):
            self._issue("durable.unknown_operator", where, f"unknown operator {name!r}")
        elif name not in scope.bound:
            self._issue("durable.reference", where, scope.explain(name))
        return 1

    # ---- the simulated alpha network ---------------------------------------------------------

    def _alpha(self, cond: Mapping[str, Any], path: Path, parent: _Node, *, array: bool) -> _Node:
        """Insert a validated condition under parent the way rete.c createAlpha does."""
        ((key, value),) = cond.items()
        if key == "$and":
            node = parent
            for index, sub in enumerate(value):
                node = self._alpha(sub, path, node, array=array and index == 0)
            return node
        if key == "$or":
            forward = _Node()  # createForwardAlpha: never shared
            for sub in value:
                end = self._alpha(sub, path, parent, array=array)
                end.listed[self._new_id()] = forward
                self._limits(end, path)
            return forward
        if key in _ARRAY:
            ((field, inner),) = value.items()
            node, _ = self._child(parent, None, array=array, listed=False)  # never shared
            group = f"{key}:{field}:{json.dumps(inner, sort_keys=True, default=str)}"
            parent.groups[group] = parent.groups.get(group, 0) + 1
            node.array = node.array or _Node()
            self._alpha(inner, path, node.array, array=True)
            self._limits(parent, path)
            return node
        if key in _FIELD_OPS:
            ((field, operand),) = value.items()
            op = key
        else:
            field, operand, op = key, value, "$eq"
        shared = None if op in _REGEX else _canon(operand)
        ident = None if shared is None else (op, field, *shared)
        node, created = self._child(parent, ident, array=array, listed=op == "$nex")
        if created and op == "$eq" and shared is not None and shared[0] != "ref":
            parent.eq_fields.add(field)  # equalities on one field: one fact matches one of them
        elif created and op != "$nex":
            parent.other += 1
        self._limits(parent, path)
        return node

    def _child(
        self, parent: _Node, ident: tuple[Any, ...] | None, *, array: bool, listed: bool
    ) -> tuple[_Node, bool]:
        # findAlpha looks only in the normal hashset and list: array children are never found.
        table = parent.listed if listed else parent.hashed
        if ident is not None and not array and ident in table:
            return table[ident], False
        node = _Node()
        table[ident if ident is not None and not array else self._new_id()] = node
        return node, True

    def _new_id(self) -> int:
        self._unique += 1
        return self._unique

    def _limits(self, node: _Node, path: Path) -> None:
        siblings, listed, stack = len(node.hashed), len(node.listed), node.stack()
        checks = (
            (
                "durable.fanout",
                siblings >= MAX_SIBLINGS,
                (
                    f"{siblings} distinct sibling conditions under one alpha node; durable hangs"
                    f" (endless loop, GIL held) at {MAX_SIBLINGS}: test a shared field first"
                ),
            ),
            (
                "durable.nex_fanout",
                listed > MAX_LIST,
                (
                    f"{listed} $nex conditions or $or branches under one node;"
                    f" durable holds {MAX_LIST} (error 107)"
                ),
            ),
            (
                "durable.chain_fanout",
                node.beta > MAX_CHAIN_PATTERNS,
                (
                    f"{node.beta} patterns end on the same condition chain;"
                    f" durable holds {MAX_CHAIN_PATTERNS} (error 108)"
                ),
            ),
            (
                "durable.stack_fanout",
                stack > MAX_STACK,
                (
                    f"up to {stack} conditions under one node can match one fact at once;"
                    f" durable's evaluation stack holds {MAX_STACK} (error 303 when asserting)"
                ),
            ),
        )
        for code, exceeded, message in checks:
            if exceeded and code not in node.reported:
                node.reported.add(code)
                self._issue(code, path, message)


@dataclass(frozen=True, slots=True)
class _Names:
    """Every alias of a rule, to tell a later or negated alias from an unknown one."""

    positive: frozenset[str]
    negated: frozenset[str]
    duplicates: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class _Scope:
    bound: tuple[str, ...]
    own: str
    names: _Names
    array: bool = False

    def explain(self, name: str) -> str:
        if name == self.own:
            return f"reference to its own alias {name!r}: use {{'$m': field}}"
        if name in self.names.negated:
            return f"reference to {name!r}, a '$not' alias that binds nothing"
        if name in self.names.positive:
            return f"reference to {name!r}, bound only later: durable's join then misfires"
        return f"reference to unknown alias {name!r}: durable accepts it and matches every fact"


def _split(alias: object) -> tuple[str, str | None]:
    if not isinstance(alias, str):
        return "", None
    for suffix in _SUFFIXES:
        if alias.endswith(suffix):
            return alias[: -len(suffix)], suffix
    return alias, None


def _aliases(patterns: object) -> _Names:
    positive: set[str] = set()
    negated: set[str] = set()
    duplicates: list[str] = []
    stack = [patterns]
    while stack:
        items = stack.pop()
        for pattern in items if isinstance(items, list) else ():
            if isinstance(pattern, Mapping) and len(pattern) == 1:
                ((alias, cond),) = pattern.items()
                base, suffix = _split(alias)
                if suffix in {"$all", "$any"}:
                    stack.append(cond)
                elif base in positive or base in negated:
                    duplicates.append(base)
                else:
                    (negated if suffix == "$not" else positive).add(base)
    return _Names(
        positive=frozenset(positive), negated=frozenset(negated), duplicates=tuple(duplicates)
    )


def _matches_state(cond: Mapping[str, Any]) -> bool:
    """Whether the state fact {sid, id, $s} could satisfy the condition (validated input)."""
    ((key, value),) = cond.items()
    if key == "$and":
        return all(_matches_state(c) for c in value)
    if key == "$or":
        return any(_matches_state(c) for c in value)
    if key in _FIELD_OPS:
        ((field, _),) = value.items()
        return key == "$nex" if field not in _STATE_FIELDS else key not in _ARRAY
    return key in _STATE_FIELDS
