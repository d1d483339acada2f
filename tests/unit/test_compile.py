"""Stage 3 (engine/compile.py): knowledge to the durable ruleset definition, golden-tested."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import engine.compile as compiler
from engine.compile import GATE_ALIAS, PHASE_KIND, CompiledKnowledge, compile_knowledge
from engine.errors import KnowledgeError
from engine.knowledge import Knowledge, load_knowledge
from engine.patterns import Ref
from engine.patterns import Test as FieldTest

GOLDEN = Path(__file__).parents[1] / "golden" / "compile" / "mini.ruleset.json"
R = "rules/rules.yaml"


def _json(definition: Any) -> str:
    return json.dumps(definition, indent=2, sort_keys=True) + "\n"


def test_mini_ruleset_matches_golden(mini_compiled: CompiledKnowledge, golden):
    golden(GOLDEN, _json(mini_compiled.definition))


def test_definition_is_plain_json(mini_compiled: CompiledKnowledge):
    assert json.loads(_json(mini_compiled.definition)) == mini_compiled.definition


def test_compiling_twice_gives_the_same_definition(mini_knowledge: Knowledge):
    assert _json(compile_knowledge(mini_knowledge).definition) == _json(
        compile_knowledge(mini_knowledge).definition,
    )


def test_every_rule_runs_its_own_id(mini_compiled: CompiledKnowledge, mini_knowledge: Knowledge):
    assert list(mini_compiled.definition) == [r.id for r in mini_knowledge.rules]
    for rule_id, rule in mini_compiled.definition.items():
        assert rule["run"] == rule_id
        assert set(rule) == {"all", "run"}
        assert mini_compiled.rule(rule_id).id == rule_id


_DURABLE_OPERATORS = {
    "$and",
    "$or",
    "$neq",
    "$lt",
    "$lte",
    "$gt",
    "$gte",
    "$ex",
    "$nex",
    "$iany",
    "$i",
}


def _check_condition(condition: Any) -> None:
    assert isinstance(condition, dict)
    assert len(condition) == 1, condition
    [(key, value)] = condition.items()
    if key in {"$and", "$or"}:
        assert isinstance(value, list)
        assert len(value) >= 2, condition
        for part in value:
            _check_condition(part)
    elif key == "$iany":
        _check_condition(value)
    elif key.startswith("$"):
        assert key in _DURABLE_OPERATORS, key
        assert isinstance(value, dict)
        assert len(value) == 1
        assert not isinstance(next(iter(value.values())), (list, dict)), condition
    else:  # field: scalar, or field: {alias: field} for a join
        assert not isinstance(value, list), f"durable refuses list literals: {condition}"


def test_definition_uses_only_durable_syntax(mini_compiled: CompiledKnowledge):
    for rule in mini_compiled.definition.values():
        aliases = [next(iter(p)) for p in rule["all"]]
        assert len(aliases) == len(set(aliases))
        assert len(aliases) <= 16  # durable's MAX_MESSAGE_FRAMES
        for pattern in rule["all"]:
            [condition] = pattern.values()
            _check_condition(condition)


# --- one durable form per operator -----------------------------------------------------------


def _t(op: str, value: Any, field: str = "f") -> FieldTest:
    return FieldTest(field=field, op=op, value=value, path=())  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("test", "condition"),
    [
        pytest.param(_t("eq", "active"), {"f": "active"}, id="eq"),
        pytest.param(_t("eq", value=True), {"f": True}, id="eq-boolean"),
        pytest.param(_t("eq", None), {"f": None}, id="eq-null"),
        pytest.param(_t("ne", "none"), {"$neq": {"f": "none"}}, id="ne"),
        pytest.param(_t("in", ("a",)), {"f": "a"}, id="in-one"),
        pytest.param(_t("in", ("a", "b")), {"$or": [{"f": "a"}, {"f": "b"}]}, id="in"),
        pytest.param(_t("not_in", ("a",)), {"$neq": {"f": "a"}}, id="not_in-one"),
        pytest.param(
            _t("not_in", ("a", "b")),
            {"$and": [{"$neq": {"f": "a"}}, {"$neq": {"f": "b"}}]},
            id="not_in",
        ),
        pytest.param(_t("lt", 180), {"$lt": {"f": 180}}, id="lt"),
        pytest.param(_t("le", 1.5), {"$lte": {"f": 1.5}}, id="le"),
        pytest.param(_t("gt", 0), {"$gt": {"f": 0}}, id="gt"),
        pytest.param(_t("ge", 4), {"$gte": {"f": 4}}, id="ge"),
        pytest.param(_t("known", value=True), {"$ex": {"f": 1}}, id="known-true"),
        pytest.param(_t("known", value=False), {"$nex": {"f": 1}}, id="known-false"),
        pytest.param(
            _t("same_as", Ref("condition", "zone")), {"f": {"condition": "zone"}}, id="same_as"
        ),
        pytest.param(
            _t("is_a", ("anticoagulant",), field="is_a"),
            {"$iany": {"is_a": {"$i": "anticoagulant"}}},
            id="is_a",
        ),
        pytest.param(
            _t("is_a", ("anticoagulant", "antiplatelet"), field="is_a"),
            {
                "$or": [
                    {"$iany": {"is_a": {"$i": "anticoagulant"}}},
                    {"$iany": {"is_a": {"$i": "antiplatelet"}}},
                ]
            },
            id="is_a-list",
        ),
    ],
)
def test_durable_form_of_each_operator(test: FieldTest, condition: dict[str, Any]):
    assert compiler.test_condition(test) == condition


def test_pattern_condition_puts_the_kind_first(mini_knowledge: Knowledge):
    pattern = mini_knowledge.rule_index["meds.anticoagulant"].patterns[0]
    assert compiler.pattern_condition(pattern) == {
        "$and": [
            {"kind": "medication"},
            {"$iany": {"is_a": {"$i": "anticoagulant"}}},
            {"status": "current"},
        ],
    }


def test_pattern_without_tests_is_the_kind_alone(mini_knowledge: Knowledge):
    pattern = mini_knowledge.rule_index["care.standard"].patterns[0]
    assert compiler.pattern_condition(pattern) == {"kind": "area"}


def test_join_refers_to_the_earlier_alias(mini_compiled: CompiledKnowledge):
    rule = mini_compiled.definition["contra.eczema.in_area"]
    assert rule["all"][1] == {"area": {"$and": [{"kind": "area"}, {"zone": {"condition": "zone"}}]}}


# --- phases ----------------------------------------------------------------------------------


def test_gate_pattern_comes_first_in_negated_rules(mini_compiled: CompiledKnowledge):
    rule = mini_compiled.definition["caution.eczema.outside"]
    assert rule["all"][0] == {GATE_ALIAS: {"$and": [{"kind": PHASE_KIND}, {"n": 1}]}}
    assert [next(iter(p)) for p in rule["all"]] == [GATE_ALIAS, "condition", "not1_finding$not"]


def test_only_negated_rules_are_gated(mini_compiled: CompiledKnowledge):
    gated = {
        rule_id
        for rule_id, rule in mini_compiled.definition.items()
        if any(GATE_ALIAS in p for p in rule["all"])
    }
    assert gated == {"caution.eczema.outside"}


def test_mini_strata_and_phases(mini_compiled: CompiledKnowledge):
    assert mini_compiled.phases == 1
    assert {k: v for k, v in mini_compiled.strata.items() if v} == {"caution.eczema.outside": 1}
    assert set(mini_compiled.strata) == set(mini_compiled.definition)


def test_numeric_fields(mini_compiled: CompiledKnowledge):
    assert mini_compiled.numeric_fields["client"] == frozenset(
        {"age", "fitzpatrick", "last_microneedling_days_ago"},
    )
    assert mini_compiled.numeric_fields["area"] == frozenset({"depth_mm", "entry"})
    assert mini_compiled.numeric_fields["finding"] == frozenset()


def test_negation_through_a_chain_gets_a_later_phase(seed_mistakes):
    root = seed_mistakes(
        (
            R,
            "  - id: care.standard\n",
            (
                "  - id: info.chained\n"
                "    title: t\n"
                "    rationale: r\n"
                "    sources: [P1]\n"
                "    when: [finding: {code: ECZEMA_OUTSIDE_AREA},"
                " not: {state: {name: immunosuppressed}}]\n"
                "    then: {finding: STANDARD_AFTERCARE}\n"
                "  - id: info.after_chain\n"
                "    title: t\n"
                "    rationale: r\n"
                "    sources: [P1]\n"
                "    when: [client: {}, not: {finding: {code: STANDARD_AFTERCARE}}]\n"
                "    then: {finding: PREGNANCY}\n"
                "  - id: care.standard\n"
            ),
        ),
    )
    compiled = compile_knowledge(load_knowledge(root))
    # Using a phase-1 finding positively keeps a rule in phase 1; negating it moves one later.
    assert compiled.strata["info.chained"] == 1
    assert compiled.strata["info.after_chain"] == 2
    assert compiled.phases == 2
    assert compiled.definition["info.after_chain"]["all"][0] == {
        GATE_ALIAS: {"$and": [{"kind": PHASE_KIND}, {"n": 2}]},
    }


def test_negation_cycle_is_a_knowledge_error(seed_mistakes):
    root = seed_mistakes(
        (
            R,
            "  - id: care.standard\n",
            (
                "  - id: state.restless\n"
                "    title: t\n"
                "    rationale: r\n"
                "    sources: [P1]\n"
                "    when: [client: {}, not: {state: {name: calm}}]\n"
                "    then: {state: restless}\n"
                "  - id: state.calm\n"
                "    title: t\n"
                "    rationale: r\n"
                "    sources: [P1]\n"
                "    when: [state: {name: restless}]\n"
                "    then: {state: calm}\n"
                "  - id: care.standard\n"
            ),
        ),
    )
    knowledge = load_knowledge(root)  # each rule is valid on its own
    with pytest.raises(KnowledgeError) as info:
        compile_knowledge(knowledge)
    [problem] = info.value.problems
    assert problem.code == "rule.negation_cycle"
    assert problem.location.file.endswith(R)
    assert problem.location.line in {48, 54}  # one of the two rules of the cycle
    assert "'not'" in problem.message


def test_a_rule_negating_its_own_conclusion_is_a_cycle(seed_mistakes):
    root = seed_mistakes(
        (
            R,
            "  - id: care.standard\n",
            (
                "  - id: info.self\n"
                "    title: t\n"
                "    rationale: r\n"
                "    sources: [P1]\n"
                "    when: [client: {}, not: {finding: {code: PREGNANCY}}]\n"
                "    then: {finding: PREGNANCY}\n"
                "  - id: care.standard\n"
            ),
        ),
    )
    with pytest.raises(KnowledgeError) as info:
        compile_knowledge(load_knowledge(root))
    assert [(p.code, p.location.line) for p in info.value.problems] == [("rule.negation_cycle", 48)]


def test_a_pattern_cannot_take_the_gate_alias(seed_mistakes):
    root = seed_mistakes(
        (
            R,
            "      - condition: {is_a: eczema_dermatitis, status: active}\n      - not:",
            (
                "      - condition: {is_a: eczema_dermatitis, status: active}\n"
                "        as: phase_gate\n"
                "      - not:"
            ),
        ),
    )
    try:
        compiled = compile_knowledge(load_knowledge(root))
    except KnowledgeError:
        return  # refusing the name is a fix too
    aliases = [next(iter(p)) for p in compiled.definition["caution.eczema.outside"]["all"]]
    assert len(aliases) == len(set(aliases)), aliases


def test_engine_limits_are_checked_at_compile_time(mini_knowledge):
    """More than 16 patterns in one rule is refused by the compiler, located at the rule."""
    import dataclasses  # noqa: PLC0415

    from engine.errors import KnowledgeError  # noqa: PLC0415

    rule = mini_knowledge.rule_index["contra.pregnancy"]
    many = tuple(dataclasses.replace(rule.patterns[0], alias=f"client{i}") for i in range(17))
    big = dataclasses.replace(rule, patterns=many)
    rules = (*[r for r in mini_knowledge.rules if r.id != rule.id], big)
    broken = dataclasses.replace(mini_knowledge, rules=rules, rule_index={r.id: r for r in rules})
    with pytest.raises(KnowledgeError) as err:
        compile_knowledge(broken)
    problem = err.value.problems[0]
    assert "contra.pregnancy" in problem.message
    assert problem.location == rule.location
