"""Speed measures that must not change answers: prepared evaluator tests, no cycles, lazy graph."""

from __future__ import annotations

import datetime as dt
import gc
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import Assessor, case_from_data, compile_knowledge, evaluate, load_knowledge
from engine.case import load_case
from engine.facts import Fact, build_facts
from engine.kleene import EvalFact, Truth, pattern_truth
from engine.patterns import Pattern, Ref
from engine.patterns import Test as FieldTest
from engine.prepared import Candidates, FastPattern, FastTest, fast_truth, key_of
from knowledge import DEFAULT_KNOWLEDGE
from tests.strategies import cases

EXAMPLES = sorted((Path(__file__).parents[2] / "examples").glob("*.yaml"))
FIELDS = ("a", "b", "c")
OPS = ("eq", "ne", "in", "not_in", "lt", "le", "gt", "ge", "known", "same_as", "is_a")
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.sampled_from([0.0, 1.0, 1.5, -2.5]),
    st.sampled_from(["x", "y", "1", ""]),
)
values = st.one_of(
    scalars,
    st.tuples(scalars),
    st.lists(scalars, min_size=2, max_size=3).map(tuple),
    st.builds(Ref, st.just("other"), st.sampled_from(FIELDS)),
)
field_values = st.one_of(scalars, st.lists(scalars, max_size=3))
facts_fields = st.dictionaries(st.sampled_from(FIELDS), field_values, max_size=3)


@st.composite
def field_tests_strategy(draw: st.DrawFn) -> FieldTest:
    op = draw(st.sampled_from(OPS))
    value: Any = draw(values)
    if op == "same_as":
        value = draw(st.builds(Ref, st.just("other"), st.sampled_from(FIELDS)))
    elif op in {"in", "not_in"} and not isinstance(value, tuple):
        value = (value,) if not isinstance(value, Ref) else ("x",)
    elif isinstance(value, Ref) and op in {"is_a", "known"}:
        value = "x"
    return FieldTest(field=draw(st.sampled_from(FIELDS)), op=op, value=value, path=())


def _fact(fid: str, fields: dict[str, Any]) -> Fact:
    return Fact(fid=fid, kind="k", fields=fields, paths={f: f"{fid}.{f}" for f in FIELDS})


@settings(max_examples=1000)  # cheap, and the operators x types space is wide
@given(
    st.lists(field_tests_strategy(), max_size=4),
    facts_fields,
    st.one_of(st.none(), facts_fields),
    st.booleans(),
)
def test_prepared_pattern_agrees_with_pattern_truth(
    field_tests: list[FieldTest],
    fields: dict[str, Any],
    other: dict[str, Any] | None,
    certain: bool,
) -> None:
    pattern = Pattern(kind="k", alias="p", negated=False, tests=tuple(field_tests), path=())
    prepared = FastPattern("p", "k", tuple(FastTest.of(t) for t in field_tests))
    candidate = EvalFact(
        fact=_fact("f", fields),
        certain=certain,
        unknown_paths=frozenset() if certain else frozenset({"list"}),
    )
    bound = {} if other is None else {"other": _fact("o", other)}
    assert fast_truth(prepared, candidate, bound) == pattern_truth(pattern, candidate, bound)


def test_an_assessment_leaves_no_reference_cycles_for_the_collector() -> None:
    """Cyclic garbage (e.g. a recursive closure holding the facts) costs collector pauses."""
    knowledge = load_knowledge(DEFAULT_KNOWLEDGE)
    assessor = Assessor(compile_knowledge(knowledge))
    cases = [load_case(knowledge, path) for path in EXAMPLES]
    assert len(cases) >= 5
    assessor.assess(cases[0])  # registers the ruleset, builds caches
    gc.collect()
    gc.disable()
    try:
        for case in cases:
            assessor.assess(case)
        left = gc.collect()
    finally:
        gc.enable()
    assert left == 0


def test_the_lazy_justification_behaves_as_a_mapping_and_a_sequence() -> None:
    knowledge = load_knowledge(DEFAULT_KNOWLEDGE)
    assessor = Assessor(compile_knowledge(knowledge))
    graph = assessor.assess(load_case(knowledge, EXAMPLES[0])).justification
    supports = tuple(graph.supports)
    assert supports
    assert graph.supports == supports
    assert graph.supports[0] == supports[0]
    assert graph.supports[-2:] == supports[-2:]
    assert len(graph.supports) == len(supports)
    nodes = dict(graph.facts)
    assert len(graph.facts) == len(nodes)
    assert all(graph.facts[fid] is node for fid, node in nodes.items())
    for support in supports:
        assert all(fid in graph.facts for fid in support.conclusions)
        assert all(fid in graph.facts for _, fid in support.premises)


@settings(max_examples=500)
@given(
    st.lists(field_tests_strategy(), min_size=1, max_size=3),
    st.lists(facts_fields, max_size=6),
)
def test_candidates_keep_every_fact_the_pattern_does_not_rule_out(
    field_tests: list[FieldTest], many: list[dict[str, Any]]
) -> None:
    """The key index drops only facts on which the pattern is FALSE, and keeps scan order."""
    field_tests = [t for t in field_tests if not isinstance(t.value, Ref)] or [
        FieldTest(field="a", op="eq", value="x", path=())
    ]
    prepared = FastPattern(
        "p", "k", tuple(FastTest.of(t) for t in field_tests), key_of(field_tests)
    )
    facts = [EvalFact(fact=_fact(f"f{i}", fields), certain=True) for i, fields in enumerate(many)]
    picked = Candidates({"k": facts}).of(prepared)
    assert picked == [ef for ef in facts if ef in picked]  # scan order
    for ef in facts:
        if ef not in picked:
            assert fast_truth(prepared, ef, {})[0] is Truth.FALSE


@pytest.mark.parametrize(
    ("op", "value", "kept"),
    [
        ("is_a", ("x", "z"), ["f0", "f2", "f3"]),  # lists holding x or z, and the unknown one
        ("is_a", "y", ["f1", "f2"]),
        ("in", ("x", "y"), ["f2", "f4"]),  # a list never equals a text
        ("eq", "x", ["f2", "f4"]),
    ],
)
def test_candidates_by_key_on_examples(op: str, value: Any, kept: list[str]) -> None:
    rows = [{"a": ["x"]}, {"a": ["y", "q"]}, {}, {"a": ["z", "x", "x"]}, {"a": "x"}]
    facts = [EvalFact(fact=_fact(f"f{i}", row), certain=True) for i, row in enumerate(rows)]
    test = FieldTest(field="a", op=op, value=value, path=())  # type: ignore[arg-type]
    pattern = FastPattern("p", "k", (FastTest.of(test),), key_of([test]))
    assert pattern.key is not None
    picked = [ef.fact.fid for ef in Candidates({"k": facts}).of(pattern)]
    assert picked == kept
    truths = {ef.fact.fid: fast_truth(pattern, ef, {})[0] for ef in facts}
    assert all(truths[fid] is Truth.FALSE for fid in truths if fid not in kept)


_KNOWLEDGE = load_knowledge(DEFAULT_KNOWLEDGE)
_PAIRS = [
    fast
    for layer in Assessor(compile_knowledge(_KNOWLEDGE)).evaluator._layers  # noqa: SLF001
    for fast in layer
    if fast.pair
]


@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(cases(_KNOWLEDGE))
def test_two_pattern_joins_find_what_the_recursive_walk_finds(data: dict[str, Any]) -> None:
    """``_pairs`` is a faster ``_matches`` for two-pattern rules: same matches, same order."""
    facts = build_facts(_KNOWLEDGE, case_from_data(_KNOWLEDGE, data, today=dt.date(2026, 11, 28)))
    store = [EvalFact(f, True) for f in facts.facts]  # noqa: FBT003
    store += [EvalFact(p, False, frozenset({p.entry_path})) for p in facts.phantoms]  # noqa: FBT003
    by_kind: dict[str, list[EvalFact]] = {}
    for ef in store:
        by_kind.setdefault(ef.fact.kind, []).append(ef)
    pick = Candidates(by_kind)
    assert len(_PAIRS) > 20  # most joins in the bundled knowledge
    for fast in _PAIRS:
        if fast.kinds <= by_kind.keys():
            assert evaluate._pairs(fast, pick) == evaluate._matches(fast, pick)  # noqa: SLF001
