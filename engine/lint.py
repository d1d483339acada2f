"""``needlewise check`` beyond validation: problems in knowledge that loads, but is wrong.

Loading (``engine/knowledge.py``) already rejects what cannot be read: schema errors, unknown
references, enum or site values outside the vocabulary, states used but never derived, ambiguous
synonyms; compiling rejects what the engine cannot run. This linter looks at the validated
knowledge as a whole and reports, each with a stable code and a ``file:line:col``:

* ``lint.never_fires`` (error): a rule whose conditions contradict each other or the vocabulary;
* ``lint.absence_always_holds``: a ``not:`` test that can never find anything;
* ``lint.state_unused``: a state some rule derives and no rule reads;
* ``lint.cycle``: a state (or finding) derived, through other states, from itself;
* ``lint.redundant_rule``: a rule that concludes nothing another rule does not already conclude;
* ``lint.weak_absolute``: an absolute finding resting only on seed, clinic or consumer sources;
* ``lint.code_never_raised``: a catalogue code that no rule or depth row raises;
* ``lint.depth_gap``: a zone x indication with no depth-table row;
* ``lint.unused_silence``: a ``silence`` entry that silences nothing.

Rule-level warnings honour the rule's ``silence: [{warning: CODE, reason: ...}]``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Final

from engine.errors import Problem, Severity, locate
from engine.knowledge import Knowledge
from engine.loader import Document, load_file
from engine.location import Location, PathPart
from engine.logic import FindingOut, LimitOut, LogicRule, StateOut
from engine.model import FieldSpec
from engine.patterns import Pattern, Ref, Test
from engine.strata import Key, derived_key, pattern_keys

LINT_CODES: Final[Mapping[str, tuple[Severity, str]]] = {
    "lint.never_fires": ("error", "a rule whose conditions can never all hold"),
    "lint.absence_always_holds": ("warning", "a 'not:' test that can never find a fact"),
    "lint.state_unused": ("warning", "a state derived but never used"),
    "lint.cycle": ("warning", "a state or finding derived from itself through chaining"),
    "lint.redundant_rule": ("warning", "a rule whose conclusion another rule always draws"),
    "lint.weak_absolute": ("warning", "an absolute finding resting only on the weakest tiers"),
    "lint.code_never_raised": ("warning", "a catalogue code that nothing raises"),
    "lint.depth_gap": ("warning", "a zone x indication without a depth-table row"),
    "lint.unused_silence": ("warning", "a silence entry that silences nothing"),
}
"""Every code this module reports: its severity and what it means."""
SILENCEABLE: Final = frozenset(
    {
        "rule.weak_sources",
        "lint.absence_always_holds",
        "lint.state_unused",
        "lint.cycle",
        "lint.redundant_rule",
        "lint.weak_absolute",
    },
)
"""Warnings a rule may silence with a reason (``silence: [{warning: CODE, reason: ...}]``)."""
WEAK_TIERS: Final = frozenset({"seed", "clinic", "consumer"})
"""Tiers too weak to carry an absolute finding on their own."""

ValueKey = tuple[str, Any]
"""A value tagged with its JSON type, so that ``True`` and ``1`` stay different."""
_SMALL_RANGE: Final = 64
"""Integer intervals up to this size are checked value by value against ``ne``/``not_in``."""
SameRef = Callable[[Ref, Ref], bool]
"""(premise reference, conclusion reference) -> whether they name the same field of one fact."""


def _key(value: object) -> ValueKey:
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, (int, float)):
        return ("num", float(value))
    if value is None:
        return ("null", None)
    return ("str", str(value))


@dataclass(frozen=True, slots=True)
class _Field:
    """What the vocabulary says about one field of one fact kind."""

    type: str
    spec: FieldSpec | None
    values: tuple[object, ...] | None
    """The closed set of values (enums, ``relation``); None when open."""


@dataclass(slots=True)
class _Domain:
    """The values one field may hold under some tests (the ``eq``/``in``/... kind of tests)."""

    allowed: frozenset[ValueKey] | None = None
    excluded: frozenset[ValueKey] = frozenset()
    lo: float = -math.inf
    lo_open: bool = False
    hi: float = math.inf
    hi_open: bool = False
    numeric: bool = False
    """A comparison requires a number."""
    present: bool | None = None
    """``known: true`` / ``known: false``; None when not tested."""
    valued: bool = False
    """Some value test (which is never true on an unanswered field)."""
    clash: bool = False
    """``known: true`` together with ``known: false``."""

    def bound(self, op: str, number: float) -> None:
        """Tighten the interval with one comparison."""
        self.numeric = True
        if op in {"gt", "ge"} and (number > self.lo or (number == self.lo and op == "gt")):
            self.lo, self.lo_open = number, op == "gt"
        if op in {"lt", "le"} and (number < self.hi or (number == self.hi and op == "lt")):
            self.hi, self.hi_open = number, op == "lt"

    def within(self, number: float) -> bool:
        """Whether a number lies in the interval."""
        above = number > self.lo or (number == self.lo and not self.lo_open)
        below = number < self.hi or (number == self.hi and not self.hi_open)
        return above and below

    def admits(self, key: ValueKey) -> bool:
        """Whether a present value passes every value test."""
        if self.allowed is not None and key not in self.allowed:
            return False
        if key in self.excluded:
            return False
        return not self.numeric or (key[0] == "num" and self.within(key[1]))


def _domain(tests: Iterable[Test], spec: FieldSpec | None) -> _Domain:
    d = _Domain()
    for test in tests:
        if test.op == "known":
            d.clash = d.clash or (d.present is not None and d.present != bool(test.value))
            d.present = bool(test.value)
            continue
        d.valued = True
        values = test.value if isinstance(test.value, tuple) else (test.value,)
        keys = frozenset(_key(v) for v in values)
        if test.op in {"eq", "in"}:
            d.allowed = keys if d.allowed is None else d.allowed & keys
        elif test.op in {"ne", "not_in"}:
            d.excluded |= keys
        elif isinstance(test.value, (int, float)):
            d.bound(test.op, float(test.value))
    if spec is not None and d.numeric:
        # Answers outside the vocabulary's range are refused, so the range bounds every value.
        low, high = _span(spec)
        d.bound("ge", low)
        d.bound("le", high)
    return d


def _span(spec: FieldSpec | None) -> tuple[float, float]:
    """The values a numeric answer can take: the vocabulary's range (and any stored default)."""
    if spec is None:
        return -math.inf, math.inf
    low = -math.inf if spec.min is None else spec.min
    high = math.inf if spec.max is None else spec.max
    for stored in (spec.null_means, spec.default):
        if isinstance(stored, (int, float)) and not isinstance(stored, bool):
            low, high = min(low, stored), max(high, stored)
    return low, high


def _candidates(d: _Domain, info: _Field) -> list[ValueKey] | None:
    """The finite set of values the field could hold under ``d``; None when it is open."""
    base = d.allowed
    if base is None and info.type == "boolean":
        base = frozenset({("bool", True), ("bool", False)})
    if base is None and info.values is not None:
        base = frozenset(_key(v) for v in info.values)
    if base is None:
        return None
    low, high = _span(info.spec)
    return [
        key
        for key in sorted(base, key=repr)
        if d.admits(key) and (key[0] != "num" or low <= key[1] <= high)
    ]


def _impossible(d: _Domain, info: _Field) -> bool:
    """True when no answer can pass every test of the domain."""
    if d.clash or (d.present is False and d.valued):
        return True
    if not d.valued:
        return False
    finite = _candidates(d, info)
    if finite is not None:
        return not finite
    if not d.numeric:
        return False
    if d.lo > d.hi or (d.lo == d.hi and (d.lo_open or d.hi_open)):
        return True
    if info.type == "integer" and math.isfinite(d.lo) and math.isfinite(d.hi):
        first = math.floor(d.lo) + 1 if d.lo_open else math.ceil(d.lo)
        last = math.ceil(d.hi) - 1 if d.hi_open else math.floor(d.hi)
        if last < first:
            return True
        if last - first < _SMALL_RANGE:
            return all(("num", float(n)) in d.excluded for n in range(first, last + 1))
    return d.lo == d.hi and ("num", d.lo) in d.excluded


def _contains(outer: _Domain, inner: _Domain, info: _Field) -> bool:
    """True when every answer ``inner`` admits is admitted by ``outer``."""
    if outer.present is False:
        return inner.present is False and not inner.valued
    if outer.present is True and not (inner.present is True or inner.valued):
        return False
    if not outer.valued:
        return True
    if not inner.valued:
        return False
    finite = _candidates(inner, info)
    if finite is not None:
        return all(outer.admits(k) for k in finite)
    if outer.allowed is not None:
        return False
    if inner.numeric:
        low_ok = outer.lo < inner.lo or (
            outer.lo == inner.lo and (inner.lo_open or not outer.lo_open)
        )
        high_ok = outer.hi > inner.hi or (
            outer.hi == inner.hi and (inner.hi_open or not outer.hi_open)
        )
        holes = {k for k in outer.excluded if k[0] == "num" and inner.within(k[1])}
        return low_ok and high_ok and holes <= inner.excluded
    return not outer.numeric and outer.excluded <= inner.excluded


def _show(tests: Sequence[Test]) -> str:
    parts = []
    for test in tests:
        value = list(test.value) if isinstance(test.value, tuple) else test.value
        parts.append(f"{test.op}: {value!r}" if test.op != "eq" else repr(value))
    return "{" + ", ".join(parts) + "}"


@dataclass(slots=True)
class Positions:
    """Re-reads knowledge files for the position of any path inside them (cached).

    ``Knowledge`` keeps each rule's location but not the position index of its file; conditions
    (``Test.path``) and other parts of a rule are located by reading the file again.
    """

    docs: dict[str, Document | None] = field(default_factory=dict)

    def at(self, file: str, path: tuple[PathPart, ...]) -> Location:
        """The position of ``path`` in ``file`` (of its nearest known ancestor; never invented)."""
        if file not in self.docs:
            self.docs[file] = load_file(Path(file), file)[0]
        doc = self.docs[file]
        return Location(file=file, path=path) if doc is None else locate(doc.index, file, path)


def display_path(path: Path) -> str:
    """A file name as the loader shows it (relative to the working directory when inside it)."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


@dataclass(frozen=True, slots=True)
class _Found:
    problem: Problem
    rule_id: str | None
    """The rule it belongs to (its ``silence`` applies); None for knowledge-wide problems."""


class _Linter:
    def __init__(self, knowledge: Knowledge) -> None:
        self.k = knowledge
        self.rules = [r for r in knowledge.rules if r.origin == "rule"]
        self.positions = Positions()
        self.found: list[_Found] = []

    def report(
        self,
        code: str,
        message: str,
        where: Location,
        *,
        rule: LogicRule | None = None,
        hint: str = "",
    ) -> Problem:
        problem = Problem(
            code=code,
            message=message,
            location=where,
            severity=LINT_CODES[code][0],
            hint=hint,
        )
        self.found.append(_Found(problem, None if rule is None else rule.id))
        return problem

    def at(self, rule: LogicRule, path: tuple[PathPart, ...]) -> Location:
        return self.positions.at(rule.location.file, path)

    def field_info(self, kind: str, name: str) -> _Field:
        vocabulary = self.k.vocabulary
        spec = vocabulary.specs.get(kind)
        return _Field(
            type=(vocabulary.fields_of(kind) or {}).get(name, "text"),
            spec=None if spec is None else spec.fields.get(name),
            values=vocabulary.allowed_values(kind, name),
        )

    # --- rules that can never fire -----------------------------------------------------------

    def contradictions(self) -> None:
        fact_codes = {r.output.code for r in self.k.rules if isinstance(r.output, FindingOut)}
        single = {
            kind
            for kind, spec in self.k.vocabulary.specs.items()
            if not spec.entries and spec.site_field is None
        }
        for rule in self.rules:
            seen: dict[str, str] = {}
            for pattern in rule.patterns:
                self.pattern_contradictions(rule, pattern)
                self.underived_finding(rule, pattern, fact_codes)
                if pattern.negated or pattern.kind not in single:
                    continue
                if pattern.kind in seen:
                    self.report(
                        "lint.never_fires",
                        f"rule '{rule.id}' can never fire: there is one '{pattern.kind}' fact "
                        f"per case, but patterns '{seen[pattern.kind]}' and '{pattern.alias}' "
                        "must match two different ones",
                        self.at(rule, pattern.path),
                        hint="merge the two patterns into one",
                    )
                seen[pattern.kind] = pattern.alias

    def pattern_contradictions(self, rule: LogicRule, pattern: Pattern) -> None:
        by_field: dict[str, list[Test]] = {}
        for test in pattern.tests:
            if test.op not in {"same_as", "is_a"}:
                by_field.setdefault(test.field, []).append(test)
        for name, tests in by_field.items():
            info = self.field_info(pattern.kind, name)
            spec = info.spec
            if not _impossible(_domain(tests, spec), info):
                continue
            span = ""
            if spec is not None and spec.min is not None and spec.max is not None:
                span = f" (answers lie between {spec.min:g} and {spec.max:g})"
            what = f"{pattern.alias}.{name} {_show(tests)} can never hold{span}"
            where = self.at(rule, (*pattern.path, name))
            if pattern.negated:
                self.report(
                    "lint.absence_always_holds",
                    f"rule '{rule.id}': the 'not:' test always holds: {what}",
                    where,
                    rule=rule,
                    hint="fix the test values, or remove the 'not:' pattern",
                )
            else:
                self.report(
                    "lint.never_fires",
                    f"rule '{rule.id}' can never fire: {what}",
                    where,
                    hint="remove the contradictory test or fix its value",
                )

    def underived_finding(self, rule: LogicRule, pattern: Pattern, fact_codes: set[str]) -> None:
        if pattern.kind != "finding":
            return
        for test in pattern.tests:
            if test.field != "code" or test.op not in {"eq", "in"}:
                continue
            values = test.value if isinstance(test.value, tuple) else (test.value,)
            if any(v in fact_codes for v in values):
                continue
            shown = ", ".join(str(v) for v in values)
            why = (
                f"no rule raises {shown} (depth-verdict and do-not-treat findings are raised "
                "after the rules have run, so no rule can match them)"
            )
            where = self.at(rule, test.path)
            if pattern.negated:
                self.report(
                    "lint.absence_always_holds",
                    f"rule '{rule.id}': the 'not:' test always holds: {why}",
                    where,
                    rule=rule,
                    hint="test a code some rule raises, or remove the 'not:' pattern",
                )
            else:
                self.report(
                    "lint.never_fires",
                    f"rule '{rule.id}' can never fire: {why}",
                    where,
                    hint="test a code some rule raises",
                )

    # --- chaining: unused states and cycles --------------------------------------------------

    def unused_states(self) -> None:
        used: set[str] = set()
        everything = False
        for rule in self.k.rules:
            for pattern in rule.patterns:
                if pattern.kind != "state":
                    continue
                names = [t for t in pattern.tests if t.field == "name" and t.op in {"eq", "in"}]
                everything = everything or not names
                for test in names:
                    values = test.value if isinstance(test.value, tuple) else (test.value,)
                    used.update(str(v) for v in values)
        if everything:
            return
        for rule in self.rules:
            if isinstance(rule.output, StateOut) and rule.output.name not in used:
                self.report(
                    "lint.state_unused",
                    f"state '{rule.output.name}' is derived by rule '{rule.id}' "
                    "but no rule uses it",
                    self.at(rule, (*rule.location.path, "then", "state")),
                    rule=rule,
                    hint=f"use it in a rule (- state: {{name: {rule.output.name}}}), "
                    "or delete this rule",
                )

    def cycles(self) -> None:
        keys = {derived_key(r) for r in self.k.rules}
        edges: dict[Key, set[Key]] = {}
        by_edge: dict[tuple[Key, Key], list[LogicRule]] = {}
        for rule in self.k.rules:
            if not isinstance(rule.output, (FindingOut, StateOut)):
                continue
            target = derived_key(rule)
            for pattern in rule.patterns:
                if pattern.negated:
                    continue  # cycles through 'not' are compile errors (rule.negation_cycle)
                for source in pattern_keys(pattern, keys):
                    edges.setdefault(source, set()).add(target)
                    by_edge.setdefault((source, target), []).append(rule)
        reach = {key: _reachable(key, edges) for key in edges}
        done: set[Key] = set()
        for key in sorted(reach):
            if key in done or key not in reach[key]:
                continue
            component = sorted(k for k in reach[key] if key in reach.get(k, set()))
            done.update(component)
            members = {
                r.id: r
                for (a, b), rules in by_edge.items()
                if a in component and b in component
                for r in rules
            }
            rules = sorted(members.values(), key=_order)
            chain = " -> ".join(f"{kind} {name}" for kind, name in [*component, component[0]])
            problem = self.report(
                "lint.cycle",
                f"{component[0][0]} '{component[0][1]}' is derived from itself: {chain} "
                f"(rules {', '.join(r.id for r in rules)})",
                self.at(rules[0], rules[0].location.path),
                rule=rules[0],
                hint="a cycle never starts on its own and makes HOW explanations circular; "
                "derive the state from intake facts",
            )
            # Any rule of the cycle may silence it.
            self.found.extend(_Found(problem, other.id) for other in rules[1:])

    # --- redundant rules ---------------------------------------------------------------------

    def redundant(self) -> None:
        groups: dict[Key, list[LogicRule]] = {}
        for rule in self.rules:
            if isinstance(rule.output, (FindingOut, StateOut)):
                groups.setdefault(derived_key(rule), []).append(rule)
        for rules in groups.values():
            ordered = sorted(rules, key=_order)
            for i, narrow in enumerate(ordered):
                for broad in ordered:
                    if broad is narrow or not self.implies(narrow, broad):
                        continue
                    if self.implies(broad, narrow) and ordered.index(broad) > i:
                        continue  # the same conditions: the later of the two is reported
                    kind, name = derived_key(narrow)
                    self.report(
                        "lint.redundant_rule",
                        f"rule '{narrow.id}' is redundant: whenever it fires, rule '{broad.id}' "
                        f"({broad.location}) concludes {kind} {name} too",
                        self.at(narrow, narrow.location.path),
                        rule=narrow,
                        hint=f"delete it and cite its sources in '{broad.id}', or make it "
                        "conclude something else",
                    )
                    break

    def implies(self, narrow: LogicRule, broad: LogicRule) -> bool:
        """Whenever ``narrow`` fires, ``broad`` fires with the same conclusion."""
        b_pos = [p for p in broad.patterns if not p.negated]
        n_pos = [p for p in narrow.patterns if not p.negated]

        def search(i: int, mapping: dict[str, str]) -> bool:
            if i == len(b_pos):
                return self.negations_imply(narrow, broad, mapping) and _same_output(
                    narrow, broad, mapping
                )
            wanted = b_pos[i]
            for candidate in n_pos:
                if candidate.kind != wanted.kind or candidate.alias in mapping.values():
                    continue
                trial = {**mapping, wanted.alias: candidate.alias}
                if self.pattern_implies(candidate, wanted, partial(_maps, trial)) and search(
                    i + 1, trial
                ):
                    return True
            return False

        return search(0, {})

    def negations_imply(
        self, narrow: LogicRule, broad: LogicRule, mapping: Mapping[str, str]
    ) -> bool:
        # not(N) implies not(B) when B's tests imply N's: the broad absence test is the stricter.
        return all(
            any(
                theirs.kind == mine.kind
                and self.pattern_implies(theirs, mine, partial(_flipped, mapping))
                for mine in narrow.patterns
                if mine.negated
            )
            for theirs in broad.patterns
            if theirs.negated
        )

    def pattern_implies(self, premise: Pattern, conclusion: Pattern, same: SameRef) -> bool:
        """Every fact that passes ``premise``'s tests passes ``conclusion``'s."""
        fields = {t.field for t in conclusion.tests}
        for name in fields:
            wanted = [t for t in conclusion.tests if t.field == name]
            have = [t for t in premise.tests if t.field == name]
            for test in wanted:
                if test.op == "same_as" and not any(
                    h.op == "same_as"
                    and isinstance(h.value, Ref)
                    and isinstance(test.value, Ref)
                    and same(h.value, test.value)
                    for h in have
                ):
                    return False
                if test.op == "is_a" and not self.is_a_implies(have, test):
                    return False
            plain = [t for t in wanted if t.op not in {"same_as", "is_a"}]
            if plain:
                info = self.field_info(conclusion.kind, name)
                mine = [t for t in have if t.op not in {"same_as", "is_a"}]
                if not _contains(_domain(plain, info.spec), _domain(mine, info.spec), info):
                    return False
        return True

    def is_a_implies(self, have: Sequence[Test], test: Test) -> bool:
        wanted = set(test.value if isinstance(test.value, tuple) else (test.value,))
        closure = self.k.terminology.closure
        for premise in have:
            if premise.op != "is_a":
                continue
            values = premise.value if isinstance(premise.value, tuple) else (premise.value,)
            if all(wanted & set(closure.get(str(v), (str(v),))) for v in values):
                return True
        return False

    # --- sources, catalogue, depth table -----------------------------------------------------

    def weak_absolute(self) -> None:
        for rule in self.rules:
            out = rule.output
            if not isinstance(out, FindingOut):
                continue
            entry = self.k.catalogue.get(out.code)
            tiers = [self.k.sources[s].tier for s in rule.sources if s in self.k.sources]
            if entry is None or entry.level != "absolute" or not tiers:
                continue
            if set(tiers) <= WEAK_TIERS and set(tiers) != {"consumer"}:
                cited = ", ".join(f"{s} [{t}]" for s, t in zip(rule.sources, tiers, strict=False))
                self.report(
                    "lint.weak_absolute",
                    f"rule '{rule.id}' raises the absolute finding {out.code} but rests only on "
                    f"seed, clinic or consumer sources ({cited})",
                    self.at(rule, (*rule.location.path, "sources")),
                    rule=rule,
                    hint="cite a regulator, peer-reviewed, society or manufacturer source, "
                    "lower the code's level, or silence with a reason",
                )

    def unraised_codes(self) -> None:
        raised = {r.output.code for r in self.k.rules if isinstance(r.output, FindingOut)}
        raised |= {
            r.output.do_not_treat
            for r in self.k.rules
            if isinstance(r.output, LimitOut) and r.output.do_not_treat
        }
        verdicts = self.k.depth.verdict_findings
        raised |= {verdicts.above_soft, verdicts.exceeds_hard, verdicts.no_sourced_limit}
        file = display_path(self.k.root / "catalogue.yaml")
        for i, code in enumerate(self.k.catalogue):
            if code not in raised:
                self.report(
                    "lint.code_never_raised",
                    f"catalogue code '{code}' is raised by no rule or depth-table row",
                    self.positions.at(file, ("findings", i, "code")),
                    hint="write a rule that raises it, or remove it from the catalogue",
                )

    def depth_gaps(self) -> None:
        indications = [str(v) for v in self.k.vocabulary.allowed_values("area", "indication") or ()]
        covered: set[tuple[str, str]] = set()
        for row in self.k.depth.limits:
            zones = {z for name in row.zones for z in self.k.sites.get(name, ())}
            for zone in zones:
                covered.update((zone, ind) for ind in row.indications or indications)
        file = display_path(self.k.root / "depth.yaml")
        where = self.positions.at(file, ("limits",))
        for zone in self.k.zones:
            gaps = [i for i in indications if (zone, i) not in covered]
            if not gaps:
                continue
            which = "any indication" if gaps == indications else "indication " + ", ".join(gaps)
            self.report(
                "lint.depth_gap",
                f"the depth table has no row for zone '{zone}' with {which}: such a planned "
                "zone gets no limit and no finding",
                where,
                hint="add a row with soft_mm/hard_mm, or one with no_sourced_limit: true "
                "(never invent a number)",
            )

    # --- silences ----------------------------------------------------------------------------

    def silence(self) -> list[Problem]:
        """Drop silenced rule-level warnings; report silence entries that silence nothing."""
        by_id = {r.id: r for r in self.rules}
        used: set[tuple[str, str]] = set()
        for rule in self.rules:
            tiers = {self.k.sources[s].tier for s in rule.sources if s in self.k.sources}
            if tiers and tiers <= WEAK_TIERS and tiers != {"consumer"}:
                used.add((rule.id, "rule.weak_sources"))  # silenced (or reported) at load
        silenced: set[int] = set()
        for found in self.found:
            owner = by_id.get(found.rule_id or "")
            if owner is None or found.problem.severity != "warning":
                continue
            used.add((owner.id, found.problem.code))
            if found.problem.code in owner.silenced:
                silenced.add(id(found.problem))
        out: list[Problem] = []
        for found in self.found:
            if id(found.problem) not in silenced and found.problem not in out:
                out.append(found.problem)
        for rule in self.rules:
            for i, code in enumerate(rule.silenced):
                if (rule.id, code) not in used:
                    out.append(self.unused_silence(rule, i, code))
        return out

    def unused_silence(self, rule: LogicRule, index: int, code: str) -> Problem:
        known = code in SILENCEABLE
        return Problem(
            code="lint.unused_silence",
            message=f"rule '{rule.id}' silences '{code}', "
            + (
                "but check reports no such warning for it"
                if known
                else "which is not a warning a rule can silence"
            ),
            location=self.at(rule, (*rule.location.path, "silence", index)),
            severity="warning",
            hint="remove the entry: the warning it accepted is gone"
            if known
            else f"silenceable warnings: {', '.join(sorted(SILENCEABLE))}",
        )

    def run(self) -> tuple[Problem, ...]:
        self.contradictions()
        self.unused_states()
        self.cycles()
        self.redundant()
        self.weak_absolute()
        self.unraised_codes()
        self.depth_gaps()
        problems = self.silence()
        # An absolute finding on weak sources says more than the load's generic weak-source
        # warning at the same place: keep the stronger one only.
        stronger = {
            (str(p.location), p.location.path) for p in problems if p.code == "lint.weak_absolute"
        }
        loaded = [
            w
            for w in self.k.warnings
            if not (
                w.code == "rule.weak_sources" and (str(w.location), w.location.path) in stronger
            )
        ]
        return tuple(sorted([*loaded, *problems], key=sort_key))


def _order(rule: LogicRule) -> tuple[str, int, int, str]:
    return (rule.location.file, rule.location.line, rule.location.column, rule.id)


def _reachable(start: Key, edges: Mapping[Key, set[Key]]) -> set[Key]:
    seen: set[Key] = set()
    stack = list(edges.get(start, ()))
    while stack:
        node = stack.pop()
        if node not in seen:
            seen.add(node)
            stack.extend(edges.get(node, ()))
    return seen


def _maps(mapping: Mapping[str, str], mine: Ref, theirs: Ref) -> bool:
    """``theirs`` (broad rule) names the same fact field as ``mine`` (narrow rule)."""
    return mine.field == theirs.field and mapping.get(theirs.alias) == mine.alias


def _flipped(mapping: Mapping[str, str], theirs: Ref, mine: Ref) -> bool:
    return _maps(mapping, mine, theirs)


def _same_ref(mapping: Mapping[str, str], narrow: Ref | None, broad: Ref | None) -> bool:
    if narrow is None or broad is None:
        return narrow is broad
    return _maps(mapping, narrow, broad)


def _same_output(narrow: LogicRule, broad: LogicRule, mapping: Mapping[str, str]) -> bool:
    a, b = narrow.output, broad.output
    if isinstance(a, FindingOut) and isinstance(b, FindingOut):
        return (
            a.code == b.code
            and _same_ref(mapping, a.zone, b.zone)
            and a.wait_days == b.wait_days
            and _same_ref(mapping, a.wait_since, b.wait_since)
            and a.advice == b.advice
        )
    if isinstance(a, StateOut) and isinstance(b, StateOut):
        return a.name == b.name and _same_ref(mapping, a.zone, b.zone)
    return False


def sort_key(problem: Problem) -> tuple[str, int, int, str]:
    """File, line, column, code: the order ``check`` prints problems in."""
    loc = problem.location
    return (loc.file, loc.line, loc.column, problem.code)


def lint_knowledge(knowledge: Knowledge) -> tuple[Problem, ...]:
    """The load warnings plus every lint problem of validated knowledge, sorted by position."""
    return _Linter(knowledge).run()
