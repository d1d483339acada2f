"""engine.durable_check: one test per issue kind (durable-rules-notes 3.1, 3.4, 5.5)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from engine import durable_check
from engine.durable_check import (
    MAX_SIBLINGS,
    DefinitionIssue,
    InvalidDefinition,
    assert_valid,
    check_definition,
)


def rule(*patterns: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"all": list(patterns), "run": "r", **extra}


def codes(definition: dict[str, Any]) -> list[str]:
    return [issue.code for issue in check_definition(definition)]


def one(definition: dict[str, Any]) -> DefinitionIssue:
    issues = check_definition(definition)
    assert len(issues) == 1, issues
    return issues[0]


CLIENT = {"c": {"kind": "client"}}


def test_a_compiler_shaped_definition_is_clean() -> None:
    definition = {
        "r": rule(
            {"c": {"$and": [{"kind": "client"}, {"$gt": {"age": 17}}, {"$nex": {"tan": 1}}]}},
            {"p": {"$and": [{"kind": "plan"}, {"client": {"c": "fid"}}, {"$mt": {"zone": "a|b"}}]}},
            {"m": {"$and": [{"kind": "med"}, {"$iany": {"is_a": {"$i": "retinoid"}}}]}},
            {"x$not": {"$and": [{"kind": "contra"}, {"$or": [{"code": "a"}, {"code": "b"}]}]}},
            pri=3,
            dist=0,
        ),
        "gated": rule(
            {"g": {"$and": [{"kind": "$phase"}, {"n": 1}]}},
            {"n$not": {"kind": "contra"}},
            {"p": {"$and": [{"kind": "plan"}, {"depth": {"$add": {"$l": {"$m": "x"}, "$r": 1}}}]}},
        ),
        "any": {"any": [{"a$all": [CLIENT, {"p": {"kind": "plan"}}]}, {"b": {"kind": "x"}}]},
    }
    definition["any"]["run"] = "any"
    assert check_definition(definition) == []
    assert_valid(definition)


def test_unknown_rule_key_is_reported() -> None:
    """Durable rejects it with error 105; compilers must strip metadata such as 'why'."""
    issue = one({"r": rule(CLIENT, why="because")})
    assert (issue.rule_id, issue.code, issue.path) == ("r", "durable.unknown_key", ("why",))


@pytest.mark.parametrize(
    ("pri", "code"),
    [(1.0, "durable.pri_type"), ("3", "durable.pri_type"), (True, "durable.pri_type")],
)
def test_pri_must_be_an_int(pri: object, code: str) -> None:
    """A float pri is error 102; a string or bool pri is silently accepted by durable."""
    assert codes({"r": rule(CLIENT, pri=pri)}) == [code]


def test_negative_pri_is_reported() -> None:
    """Durable reads pri into an unsigned short: -1 becomes 65535 and runs last (measured)."""
    assert codes({"r": rule(CLIENT, pri=-1)}) == ["durable.pri_range"]


def test_count_with_cap_and_bad_dist() -> None:
    """count+cap together registers but never fires (measured); dist is 0 or 1."""
    assert codes({"r": rule(CLIENT, count=2, cap=2, dist=2)}) == [
        "durable.count_cap",
        "durable.dist",
    ]


def test_run_must_be_a_string() -> None:
    """Without run durable raises KeyError; run=42 is accepted and fails at fire time."""
    assert codes({"r": {"all": [CLIENT]}}) == ["durable.run"]
    assert codes({"r": {"all": [CLIENT], "run": 42}}) == ["durable.run"]


def test_patterns_need_exactly_one_non_empty_sequence() -> None:
    assert codes({"r": {"all": [], "run": "r"}}) == ["durable.patterns"]
    assert codes({"r": {"all": [CLIENT], "any": [CLIENT], "run": "r"}}) == ["durable.patterns"]
    assert codes({"r": {"all": {"c": {"kind": "x"}}, "run": "r"}}) == ["durable.patterns"]


def test_pattern_with_two_aliases() -> None:
    """Durable reads the first alias only."""
    assert codes({"r": rule({"a": {"kind": "x"}, "b": {"kind": "y"}})}) == ["durable.pattern_shape"]


def test_duplicate_alias() -> None:
    assert codes({"r": rule(CLIENT, {"c": {"kind": "plan"}})}) == ["durable.alias"]


def test_condition_with_two_keys() -> None:
    """{'kind': 'A', 'v': 2} matched every A fact: durable ignored 'v' (measured)."""
    issue = one({"r": rule({"c": {"kind": "client", "age": 30}})})
    assert issue.code == "durable.condition_shape"
    assert issue.path == ("all", 0, "c")


def test_operator_with_two_fields() -> None:
    """{'$lt': {'v': 2, 'w': 3}} tested only v (measured)."""
    assert codes({"r": rule({"c": {"$lt": {"v": 2, "w": 3}}})}) == ["durable.condition_shape"]


def test_list_literal() -> None:
    """Error 102 at registration."""
    issue = one({"r": rule({"c": {"$and": [{"kind": "client"}, {"st": ["V", "VI"]}]}})})
    assert issue.code == "durable.list_literal"
    assert issue.path == ("all", 0, "c", "$and", 1, "st")


def test_unknown_operator() -> None:
    """`$in` is error 202; `$foo: 'x'` would silently become an equality on field '$foo'."""
    assert codes({"r": rule({"c": {"$in": {"v": 1}}})}) == ["durable.unknown_operator"]
    assert codes({"r": rule({"c": {"$foo": "x"}})}) == ["durable.unknown_operator"]


def test_unknown_alias_reference() -> None:
    """Durable accepts it and the rule fires for every fact (notes 3.1)."""
    issue = one({"r": rule(CLIENT, {"p": {"$gt": {"depth": {"zz": "max"}}}})})
    assert issue.code == "durable.reference"
    assert "unknown alias 'zz'" in issue.message


def test_reference_to_a_later_alias() -> None:
    """Measured: such a join fired for both orders of a '>' test."""
    issue = one({"r": rule({"p": {"$gt": {"depth": {"c": "max"}}}}, CLIENT)})
    assert issue.code == "durable.reference"
    assert "later" in issue.message


def test_reference_to_own_alias_and_to_a_not_alias() -> None:
    own = one({"r": rule({"c": {"$gt": {"v": {"c": "w"}}}})})
    assert "own alias" in own.message
    negated = one({"r": rule(CLIENT, {"n$not": {"kind": "x"}}, {"p": {"v": {"n": "v"}}})})
    assert "'$not' alias" in negated.message


def test_bad_expression_and_reference_in_array() -> None:
    assert codes({"r": rule(CLIENT, {"p": {"v": {"$add": {"$l": 1}}}})}) == [
        "durable.expression_shape"
    ]
    inner = {"p": {"$iany": {"l": {"$i": {"c": "v"}}}}}
    assert codes({"r": rule(CLIENT, inner)}) == ["durable.reference"]


def test_bad_regex() -> None:
    """Durable accepts '(abc' and matches 'abc' with it (notes 3.1)."""
    issue = one({"r": rule({"c": {"$mt": {"name": "(abc"}}})})
    assert issue.code == "durable.regex"


def test_regex_must_be_a_string_and_exists_takes_one() -> None:
    assert codes({"r": rule({"c": {"$mt": {"name": 1}}})}) == ["durable.value_type"]
    assert codes({"r": rule({"c": {"$ex": {"name": True}}})}) == ["durable.value_type"]


def test_ordering_against_null() -> None:
    assert codes({"r": rule({"c": {"$gt": {"age": None}}})}) == ["durable.value_type"]


def test_not_as_first_pattern() -> None:
    """A first $not pattern never fires (issue #94)."""
    assert codes({"r": rule({"n$not": {"kind": "x"}}, CLIENT)}) == ["durable.not_first"]


def test_pattern_matching_the_state_fact() -> None:
    """Measured: an empty $and matched durable's state fact and fired without end."""
    assert codes({"r": rule({"c": {"$nex": {"kind": 1}}})}) == ["durable.matches_state"]
    assert codes({"r": rule({"c": {"$and": []}})}) == ["durable.condition_shape"]


def test_seventeen_patterns() -> None:
    """Error 304 at assert time, not at registration (MAX_MESSAGE_FRAMES 16)."""
    patterns = [{f"a{i}": {"kind": "x"}} for i in range(17)]
    assert codes({"r": rule(*patterns)}) == ["durable.too_many_patterns"]
    assert codes({"r": rule(*patterns[:16])}) == []


def test_too_many_rules() -> None:
    definition = {f"r{i}": rule(CLIENT) for i in range(4097)}
    definition_codes = codes(definition)
    assert definition_codes[0] == "durable.too_many_rules"


def sibling_definition(count: int) -> dict[str, Any]:
    return {
        f"r{i}": rule({"c": {"$and": [{"kind": "x"}, {"code": f"c{i}"}]}}) for i in range(count)
    }


def test_513_sibling_conditions_are_reported_without_hanging() -> None:
    """Durable hangs the process at 512 distinct siblings under one alpha node (notes 3.4)."""
    started = time.perf_counter()
    issues = check_definition(sibling_definition(513))
    assert time.perf_counter() - started < 1
    assert [i.code for i in issues] == ["durable.fanout"]
    assert issues[0].rule_id == f"r{MAX_SIBLINGS - 1}"
    assert check_definition(sibling_definition(511)) == []


def test_fanout_counts_unshared_regex_and_iany_nodes() -> None:
    """rete.c never shares $mt or $iany nodes, even identical ones."""
    same = {"$and": [{"kind": "x"}, {"$mt": {"code": "a.*"}}]}
    assert "durable.fanout" in codes({f"r{i}": rule({"c": same}) for i in range(512)})


def test_identical_chains() -> None:
    """More than 256 patterns ending on one node: error 108."""
    definition = {f"r{i}": rule({"c": {"kind": "x"}}) for i in range(257)}
    assert codes(definition) == ["durable.chain_fanout"]


def test_nex_siblings() -> None:
    """More than 128 $nex siblings: error 107."""
    definition = {
        f"r{i}": rule({"c": {"$and": [{"kind": "x"}, {"$nex": {f"f{i}": 1}}]}}) for i in range(129)
    }
    # 65 of them already overflow the evaluation stack for a fact lacking every field (303).
    assert sorted(codes(definition)) == ["durable.nex_fanout", "durable.stack_fanout"]


def test_or_branches_sharing_a_value_overflow_the_stack() -> None:
    """65 rules with `v in [1, ...]` made asserting v=1 fail with error 303 (measured)."""
    definition = {
        f"r{i}": rule({"c": {"$and": [{"kind": "x"}, {"$or": [{"v": 1}, {"v": 100 + i}]}]}})
        for i in range(65)
    }
    assert codes(definition) == ["durable.stack_fanout"]
    del definition["r64"]
    assert codes(definition) == []


def test_not_a_mapping() -> None:
    assert codes([]) == ["durable.definition_type"]  # type: ignore[arg-type]
    assert codes({"r": "all"}) == ["durable.rule_type"]


def test_assert_valid_lists_every_issue() -> None:
    with pytest.raises(InvalidDefinition) as caught:
        assert_valid({"a": rule(CLIENT, why=1), "b": rule({"c": {"v": [1]}})})
    assert [i.rule_id for i in caught.value.issues] == ["a", "b"]
    assert "durable.unknown_key" in str(caught.value)
    assert "durable.list_literal" in str(caught.value)


def test_module_runs_without_durable() -> None:
    """Loaded on its own (no engine package, durable made unimportable) it still checks."""
    path = Path(durable_check.__file__)
    code = (
        "import sys, importlib.util\n"
        "sys.modules['durable'] = sys.modules['durable_rules_engine'] = None\n"
        f"spec = importlib.util.spec_from_file_location('dc', {str(path)!r})\n"
        "module = importlib.util.module_from_spec(spec)\n"
        "sys.modules['dc'] = module\n"
        "spec.loader.exec_module(module)\n"
        "print(module.check_definition({'r': {'all': [], 'run': 'r'}})[0].code)\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "durable.patterns"
