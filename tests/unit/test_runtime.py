"""engine.runtime: the durable adapter. Each guard's test names the defect it covers.

Section numbers refer to shared/durable-rules-notes.md.
"""

from __future__ import annotations

import copy
import json
import random
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine import runtime, runtime_support
from engine.durable_check import InvalidDefinition
from engine.runtime import (
    ActionFailed,
    EngineRuntimeError,
    FactRejected,
    Firing,
    RuleBudgetExceeded,
    RuleEngine,
    RulesetRejected,
)

Bindings = Mapping[str, Mapping[str, Any]]


def when(alias: str, kind: str, *tests: dict[str, Any]) -> dict[str, Any]:
    return {alias: {"$and": [{"kind": kind}, *tests]} if tests else {"kind": kind}}


def gate(k: int) -> dict[str, Any]:
    return {"ph": {"$and": [{"kind": "$phase"}, {"n": k}]}}


def rules(**patterns: list[dict[str, Any]]) -> dict[str, Any]:
    return {rule_id: {"all": p, "run": rule_id} for rule_id, p in patterns.items()}


def derive(table: Mapping[str, Any]) -> runtime.ActionFn:
    """conclude() that derives {fid: <rule>:<first premise fid>, kind: table[rule]}."""

    def conclude(rule_id: str, bindings: Bindings) -> list[dict[str, Any]]:
        kind = table.get(rule_id)
        if kind is None:
            return []
        first = next(iter(bindings.values()))["fid"]
        return [{"fid": f"{rule_id}:{first}", "kind": kind}]

    return conclude


def fired(firings: Sequence[Firing]) -> list[str]:
    return [f.rule_id for f in firings]


CLIENT = {"fid": "c1", "kind": "client", "age": 30, "meds": ["isotretinoin", "aspirin"]}
PLAN = {"fid": "p1", "kind": "plan", "depth": 1.5}


def test_firing_records_premises_by_fid_and_conclusions() -> None:
    definition = rules(
        join=[when("c", "client", {"$gt": {"age": 18}}), when("p", "plan", {"$lt": {"depth": 2}})]
    )
    seen: list[Bindings] = []

    def conclude(rule_id: str, bindings: Bindings) -> list[dict[str, Any]]:
        seen.append(bindings)
        return [{"fid": "ok", "kind": "ok", "rule": rule_id}]

    with RuleEngine(definition, conclude) as engine:
        result = engine.run([CLIENT, PLAN])
    assert result.firings == (
        Firing(rule_id="join", premises=(("c", "c1"), ("p", "p1")), conclusions=("ok",), phase=0),
    )
    # Bindings are our facts as registered: no durable "sid"/"id", lists as tuples.
    assert dict(seen[0]["c"]) == {**CLIENT, "meds": ("isotretinoin", "aspirin")}
    assert dict(result.facts["ok"]) == {"fid": "ok", "kind": "ok", "rule": "join"}
    assert list(result.facts) == ["c1", "p1", "ok"]


def test_chaining_across_three_levels() -> None:
    definition = rules(
        one=[when("a", "a")],
        two=[when("b", "b")],
        three=[when("c", "c"), when("p", "plan")],
    )
    with RuleEngine(definition, derive({"one": "b", "two": "c", "three": "d"})) as engine:
        result = engine.run([{"fid": "a1", "kind": "a"}, PLAN])
    assert fired(result.firings) == ["one", "two", "three"]
    assert result.firings[2].premises == (("c", "two:one:a1"), ("p", "p1"))
    assert result.facts["three:two:one:a1"]["kind"] == "d"


def test_derived_duplicate_is_one_fact_with_two_supports() -> None:
    """The same fid concluded twice: registered once, asserted once, listed by both firings."""
    definition = rules(
        by_age=[when("c", "client")],
        by_plan=[when("p", "plan")],
        on_flag=[when("f", "flag")],
    )

    def conclude(rule_id: str, bindings: Bindings) -> list[dict[str, Any]]:
        del bindings
        return [] if rule_id == "on_flag" else [{"fid": "flag", "kind": "flag"}]

    with RuleEngine(definition, conclude) as engine:
        result = engine.run([CLIENT, PLAN])
    assert sorted(fired(result.firings)) == ["by_age", "by_plan", "on_flag"]
    assert [f.conclusions for f in result.firings if f.rule_id != "on_flag"] == [("flag",)] * 2
    assert list(result.facts).count("flag") == 1


def test_conflicting_rederivation_fails() -> None:
    definition = rules(a=[when("c", "client")], b=[when("p", "plan")])

    def conclude(rule_id: str, bindings: Bindings) -> list[dict[str, Any]]:
        del bindings
        return [{"fid": "flag", "kind": "flag", "by": rule_id}]

    with RuleEngine(definition, conclude) as engine, pytest.raises(ActionFailed) as caught:
        engine.run([CLIENT, PLAN])
    assert isinstance(caught.value.__cause__, FactRejected)


def test_unmatched_fact_in_the_batch_still_fires_the_others() -> None:
    """Notes 1.3: Host.assert_facts raises MessageNotHandled and fires nothing for such a batch."""
    definition = rules(seen=[when("c", "client")])
    with RuleEngine(definition, derive({})) as engine:
        result = engine.run([{"fid": "u1", "kind": "unknown"}, CLIENT, {"fid": "u2", "kind": "x"}])
    assert result.firings[0].premises == (("c", "c1"),)
    assert set(result.facts) == {"u1", "c1", "u2"}  # unmatched facts stay in the registry


NEGATION = rules(
    contra=[when("c", "client", {"$iany": {"meds": {"$i": "isotretinoin"}}})],
    ok_gated=[gate(1), {"x$not": {"kind": "contra"}}, when("p", "plan")],
    ok_ungated=[when("p", "plan"), {"x$not": {"kind": "contra"}}],
)


def test_not_after_a_gate_is_correct_for_derived_facts() -> None:
    """Notes 3.3: $not is order-dependent; a gate asserted at quiescence makes it correct.

    The same engine also holds the ungated form, which documents the defect: it fires although
    the negated fact was derived.
    """
    with RuleEngine(NEGATION, derive({"contra": "contra"}), phases=1) as engine:
        with_contra = engine.run([CLIENT, PLAN])
        without = engine.run([{**CLIENT, "meds": ["aspirin"]}, PLAN])
    assert "ok_gated" not in fired(with_contra.firings)
    assert "ok_ungated" in fired(with_contra.firings)  # durable's defect, kept as evidence
    assert sorted(fired(without.firings)) == ["ok_gated", "ok_ungated"]
    gated = next(f for f in without.firings if f.rule_id == "ok_gated")
    # Gate aliases are bound and recorded (the caller filters kind "$phase").
    assert gated.premises == (("ph", "$phase:1"), ("p", "p1"))
    assert gated.phase == 1
    assert without.facts["$phase:1"]["kind"] == "$phase"


def test_exception_in_conclude_surfaces_as_action_failed() -> None:
    """Notes 5.2: durable swallows action exceptions into the session state."""
    definition = rules(boom=[when("c", "client")])

    def conclude(rule_id: str, _bindings: Bindings) -> list[dict[str, Any]]:
        raise ZeroDivisionError(rule_id)

    engine = RuleEngine(definition, conclude)
    with pytest.raises(ActionFailed) as caught:
        engine.run([CLIENT])
    assert caught.value.rule_id == "boom"
    assert isinstance(caught.value.__cause__, ZeroDivisionError)
    with pytest.raises(ActionFailed):
        engine.run([CLIENT])  # the failed session was deleted: a new one runs
    engine.close()


def test_keyboard_interrupt_in_conclude_is_not_swallowed() -> None:
    """durable's Promise catches BaseException; Ctrl-C must still stop the program."""
    definition = rules(stop=[when("c", "client")])

    def conclude(_rule_id: str, _bindings: Bindings) -> list[dict[str, Any]]:
        raise KeyboardInterrupt

    with RuleEngine(definition, conclude) as engine, pytest.raises(KeyboardInterrupt):
        engine.run([CLIENT])


def test_endless_chaining_is_stopped_by_the_budget() -> None:
    """Notes 5.3: durable has no cycle limit; the budget skips bodies so the agenda drains."""
    definition = rules(grow=[when("n", "n")])

    def conclude(_rule_id: str, bindings: Bindings) -> list[dict[str, Any]]:
        i = bindings["n"]["i"] + 1
        if i > 5000:  # without the budget: fail (ActionFailed) instead of looping forever
            msg = "the budget did not stop the chain"
            raise RuntimeError(msg)
        return [{"fid": f"n{i}", "kind": "n", "i": i}]

    started = time.perf_counter()
    with RuleEngine(definition, conclude, max_firings=1000) as engine:
        with pytest.raises(RuleBudgetExceeded) as caught:
            engine.run([{"fid": "n0", "kind": "n", "i": 0}])
        assert len(engine.run([{"fid": "m", "kind": "m"}]).firings) == 0  # engine still usable
    assert time.perf_counter() - started < 1
    assert len(caught.value.partial.firings) == 1000


def test_string_for_a_numeric_field_is_rejected() -> None:
    """Notes 3.1: `$gt {age: 18}` matched the strings '30', '5' and 'abc'."""
    definition = rules(adult=[when("c", "client", {"$gt": {"age": 18}})])
    numeric = {"client": frozenset({"age"})}
    with RuleEngine(definition, derive({}), numeric_fields=numeric) as engine:
        for bad in ("5", True, [30]):
            with pytest.raises(FactRejected) as caught:
                engine.run([{"fid": "c", "kind": "client", "age": bad}])
            assert (caught.value.fid, caught.value.field) == ("c", "age")
        assert len(engine.run([{"fid": "c", "kind": "client", "age": 30.5}]).firings) == 1
        # null means "answered: none" (DESIGN 3); durable never matches it, like a missing field.
        assert engine.run([{"fid": "c", "kind": "client", "age": None}]).firings == ()


def test_null_or_list_in_a_joined_field_is_rejected() -> None:
    """Measured: null or a list left of `$gt`/`$neq` against another fact's field fails the
    whole batch with error 312, and cleaning up the session then corrupts the heap.
    """
    definition = rules(
        deeper=[when("lim", "limit"), when("p", "plan", {"$gt": {"depth": {"lim": "max"}}})],
        same=[when("c", "client"), when("q", "plan", {"client": {"c": "fid"}})],
    )
    with RuleEngine(definition, derive({})) as engine:
        limit = {"fid": "l1", "kind": "limit", "max": 1.0}
        for bad in (None, [2.0]):
            with pytest.raises(FactRejected) as caught:
                engine.run([limit, {**PLAN, "depth": bad}])
            assert caught.value.field == "depth"
        # Equality joins and other kinds are unaffected.
        facts = [
            limit,
            {**PLAN, "depth": 0.5, "client": None},
            {"fid": "x", "kind": "o", "depth": None},
        ]
        assert engine.run(facts).firings == ()
        assert fired(engine.run([limit, PLAN]).firings) == ["deeper"]


def test_oversized_and_malformed_facts_are_rejected() -> None:
    """Notes 1.3: a fact with ~250 properties stops a batch and the next call segfaults."""
    with RuleEngine(rules(r=[when("c", "client")]), derive({})) as engine:
        big = {"fid": "big", "kind": "client"} | {f"f{i}": i for i in range(63)}
        with pytest.raises(FactRejected, match="65 fields"):
            engine.run([big])
        bad_facts: list[Any] = [
            {"kind": "client"},
            {"fid": "x", "kind": 3},
            {"fid": "x", "kind": "client", "id": "y"},
            {"fid": "x", "kind": "client", "v": {"nested": 1}},
            {"fid": "x", "kind": "client", "v": [[1]]},
            {"fid": "x", "kind": "client", "v": float("nan")},
            {"fid": "x", "kind": "client", "v": 2**64},
            {"fid": "$x", "kind": "client"},
            {"fid": "x", "kind": "$phase", "n": 1},
        ]
        for fact in bad_facts:
            with pytest.raises(FactRejected):
                engine.run([fact])
        with pytest.raises(FactRejected, match="share this fid"):
            engine.run([CLIENT, CLIENT])
        del big["f62"]  # 64 fields: the most a fact may have
        assert len(engine.run([big]).firings) == 1


def test_any_rules_bind_the_aliases_of_the_matching_alternative() -> None:
    definition = {
        "either": {
            "any": [{"a$all": [when("c", "client"), when("p", "plan")]}, when("x", "other")],
            "run": "either",
        }
    }
    with RuleEngine(definition, derive({})) as engine:
        result = engine.run([CLIENT, PLAN])
    assert result.firings[0].premises == (("c", "c1"), ("p", "p1"))


def test_fids_with_quotes_and_non_ascii_characters() -> None:
    """Durable hashes the raw JSON text of an id; escapes and UTF-8 must round-trip."""
    fids = ['q"uote', "back\\slash", "caf\u00e9", "\u2603", "tab\tnew\nline"]
    with RuleEngine(rules(r=[when("c", "client")]), derive({"r": "seen"})) as engine:
        result = engine.run([{"fid": fid, "kind": "client"} for fid in fids])
    assert sorted(f.premises[0][1] for f in result.firings) == sorted(fids)
    assert {f"r:{fid}" for fid in fids} <= set(result.facts)


def test_concurrent_runs_are_serialized() -> None:
    """Notes 2.4: durable is not thread-safe; the lock keeps one session live at a time."""
    errors: list[BaseException] = []
    seen = derive({"r": "seen"})

    def conclude(rule_id: str, bindings: Bindings) -> list[dict[str, Any]]:
        time.sleep(0.0002)  # releases the GIL inside an action: other threads get to run
        return list(seen(rule_id, bindings))

    with RuleEngine(rules(r=[when("c", "client")]), conclude) as engine:

        def work(worker: int) -> None:
            try:
                for i in range(50):
                    fid = f"c{worker}-{i}"
                    result = engine.run([{"fid": fid, "kind": "client"}])
                    assert result.firings[0].conclusions == (f"r:{fid}",)
            except BaseException as exc:  # noqa: BLE001 - reported by the main thread
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(w,)) for w in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == []


def test_the_callers_definition_is_not_mutated() -> None:
    """Notes 1.2: durable's Ruleset deletes "run" from every rule of the dict it is given."""
    definition = rules(r=[when("c", "client")])
    before = copy.deepcopy(definition)
    RuleEngine(definition, derive({})).close()
    assert definition == before


def test_invalid_definitions_are_refused() -> None:
    with pytest.raises(InvalidDefinition) as caught:
        RuleEngine({"r": {"all": [{"c": {"kind": "x"}}], "run": "other", "why": 1}}, derive({}))
    assert [i.code for i in caught.value.issues] == ["runtime.run", "durable.unknown_key"]
    with pytest.raises(InvalidDefinition, match=r"runtime\.unsupported"):
        RuleEngine({"r": {"all": [{"c": {"kind": "x"}}], "run": "r", "count": 2}}, derive({}))


def test_durable_registration_errors_are_mapped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runtime, "check_definition", lambda _definition: [])
    with pytest.raises(RulesetRejected) as caught:
        RuleEngine({"r": {"all": [{"c": {"kind": ["x", "y"]}}], "run": "r"}}, derive({}))
    assert caught.value.code == 102
    assert "unexpected type" in str(caught.value)


def test_run_from_inside_an_action_and_after_close() -> None:
    holder: list[RuleEngine] = []

    def conclude(_rule_id: str, _bindings: Bindings) -> list[dict[str, Any]]:
        holder[0].run([])
        return []

    engine = RuleEngine(rules(r=[when("c", "client")]), conclude)
    holder.append(engine)
    with pytest.raises(ActionFailed) as caught:
        engine.run([CLIENT])
    assert isinstance(caught.value.__cause__, EngineRuntimeError)
    engine.close()
    engine.close()  # idempotent
    assert engine.closed
    with pytest.raises(EngineRuntimeError, match="closed"):
        engine.run([CLIENT])


def test_runs_without_facts() -> None:
    with RuleEngine(rules(r=[gate(1), when("c", "client")]), derive({}), phases=2) as engine:
        assert engine.run([]).firings == ()
        assert list(engine.run([]).facts) == ["$phase:1", "$phase:2"]


def test_reload_200_times() -> None:
    """Notes 2.3: re-registering a name fails ("already registered") and dropping one leaks."""
    definition = rules(r=[when("c", "client")])
    names = set()
    for _ in range(200):
        with RuleEngine(definition, derive({})) as engine:
            names.add(engine.name)
            assert len(engine.run([CLIENT]).firings) == 1
    assert len(names) == 200


def rss_mb() -> float:
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * 4096 / 2**20


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="needs /proc")
def test_2000_create_close_cycles_do_not_leak() -> None:
    """Notes 2.3: about 115 KB leaked per reload without delete_ruleset (245 MB per 2,000)."""
    definition = rules(**{f"r{i}": [when("c", f"k{i}", {"$gt": {"v": i}})] for i in range(6)})
    for _ in range(200):
        RuleEngine(definition, derive({})).close()
    before = rss_mb()
    for _ in range(2000):
        RuleEngine(definition, derive({})).close()
    assert rss_mb() - before < 8


def test_2000_sequential_runs_and_failed_runs_free_their_session() -> None:
    """Notes 2.2: a ruleset holds 1,024 live sessions; the next one raises MemoryError."""
    calls = 0

    def conclude(rule_id: str, _bindings: Bindings) -> list[dict[str, Any]]:
        nonlocal calls
        calls += 1
        if calls % 2:
            raise ValueError(rule_id)
        return []

    with RuleEngine(rules(r=[when("c", "client")]), conclude) as engine:
        outcomes = {"ok": 0, "failed": 0}
        for _ in range(2000):
            try:
                engine.run([CLIENT])
                outcomes["ok"] += 1
            except ActionFailed:
                outcomes["failed"] += 1
    assert outcomes == {"ok": 1000, "failed": 1000}


def test_no_threads_are_created() -> None:
    """Notes 2.4 and 9: the default engine.Host starts two immortal timer threads per host."""
    before = threading.active_count()
    engines = [RuleEngine(rules(r=[when("c", "client")]), derive({})) for _ in range(5)]
    for engine in engines:
        engine.run([CLIENT])
        engine.close()
    assert threading.active_count() == before


def fnv1_32(text: str) -> int:
    """durable's fnv1Hash32 of a message id (state.c), for ASCII ids."""
    value = 0x811C9DC5
    for byte in text.encode():
        value = ((value ^ byte) * 16777619) & 0xFFFFFFFF
    return value


@pytest.fixture(scope="module")
def colliding_fids() -> tuple[str, str]:
    """Two fids with equal 32-bit durable hashes, by a birthday search (~20k candidates)."""
    rng = random.Random(2)  # noqa: S311 - a reproducible search, not cryptography
    seen: dict[int, str] = {}
    while True:
        fid = f"k{rng.getrandbits(40):010x}"
        other = seen.setdefault(fnv1_32(fid), fid)
        if other != fid:
            return other, fid


def test_false_duplicate_input_still_reaches_working_memory(
    colliding_fids: tuple[str, str],
) -> None:
    """Notes 5.4: durable dedups facts by a 32-bit hash of the id and drops the second one."""
    first, second = colliding_fids
    with RuleEngine(rules(on_k=[when("k", "k")]), derive({})) as engine:
        result = engine.run([{"fid": first, "kind": "k"}, {"fid": second, "kind": "k"}])
    assert sorted(f.premises for f in result.firings) == sorted([(("k", first),), (("k", second),)])


def test_false_duplicate_derived_fact_is_reasserted(colliding_fids: tuple[str, str]) -> None:
    """Notes 5.4: inside an action, MessageObserved for a fid our registry lacks is a collision."""
    first, second = colliding_fids
    definition = rules(seed=[when("s", "seed")], on_k=[when("k", "k")])

    def conclude(rule_id: str, bindings: Bindings) -> list[dict[str, Any]]:
        del bindings
        if rule_id == "seed":
            return [{"fid": first, "kind": "k"}, {"fid": second, "kind": "k"}]
        return []

    with RuleEngine(definition, conclude) as engine:
        result = engine.run([{"fid": "s", "kind": "seed"}])
    on_k = [f.premises[0][1] for f in result.firings if f.rule_id == "on_k"]
    assert sorted(on_k) == sorted([first, second])
    assert result.firings[0].conclusions == (first, second)


# --- speed measures that must not change what fires ------------------------------------------


def test_rules_with_identical_conditions_share_one_durable_rule_and_each_fire() -> None:
    definition = rules(
        care_a=[when("p", "plan")],
        care_b=[when("p", "plan")],
        deep=[when("p", "plan", {"$gt": {"depth": 1}})],
        care_c=[when("p", "plan")],
    )
    with RuleEngine(
        definition, derive({"care_a": "care", "care_b": "care", "care_c": "care"})
    ) as e:
        assert e._core.members == {"care_a": ("care_a", "care_b", "care_c")}  # noqa: SLF001
        result = e.run([PLAN])
    assert sorted(fired(result.firings)) == ["care_a", "care_b", "care_c", "deep"]
    assert {"care_a:p1", "care_b:p1", "care_c:p1"} <= set(result.facts)
    assert all(f.premises == (("p", "p1"),) for f in result.firings)


def test_shared_rules_count_against_the_budget_one_by_one() -> None:
    definition = rules(a=[when("p", "plan")], b=[when("p", "plan")], c=[when("p", "plan")])
    with RuleEngine(definition, derive({}), max_firings=2) as e, pytest.raises(RuleBudgetExceeded):
        e.run([PLAN])


def test_a_failure_in_one_shared_rule_names_that_rule() -> None:
    def conclude(rule_id: str, _bindings: Bindings) -> list[dict[str, Any]]:
        if rule_id == "second":
            msg = "boom"
            raise ValueError(msg)
        return []

    definition = rules(first=[when("p", "plan")], second=[when("p", "plan")])
    with RuleEngine(definition, conclude) as e, pytest.raises(ActionFailed) as caught:
        e.run([PLAN])
    assert caught.value.rule_id == "second"


def test_derived_facts_no_rule_reads_are_registered_but_not_asserted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    definition = rules(
        to_state=[when("p", "plan")],
        to_care=[when("p", "plan", {"$gt": {"depth": 1}})],
        from_state=[when("s", "state")],
    )
    table = {"to_state": "state", "to_care": "care", "from_state": "finding"}
    asserted: list[str] = []
    with RuleEngine(definition, derive(table)) as e:
        original = e._core.assert_one  # noqa: SLF001

        def spy(s: Any, fact: Mapping[str, Any]) -> None:
            asserted.append(fact["kind"])
            original(s, fact)

        monkeypatch.setattr(e._core, "assert_one", spy)  # noqa: SLF001
        result = e.run([PLAN])
    assert sorted(fired(result.firings)) == ["from_state", "to_care", "to_state"]
    assert {"to_state:p1", "to_care:p1", "from_state:to_state:p1"} <= set(result.facts)
    assert asserted == ["state"]  # care and finding: no rule matches them


def test_fixed_conclusions_are_registered_without_calling_conclude() -> None:
    called: list[str] = []

    def conclude(rule_id: str, _bindings: Bindings) -> list[dict[str, Any]]:
        called.append(rule_id)
        return [{"fid": f"{rule_id}:out", "kind": "state"}]

    definition = rules(fixed=[when("p", "plan")], dynamic=[when("p", "plan")])
    fixed = {"fixed": [{"fid": "care:fixed", "kind": "care", "rule": "fixed"}]}
    with RuleEngine(definition, conclude, fixed=fixed) as e:
        first, second = e.run([PLAN]), e.run([PLAN])
    assert called == ["dynamic", "dynamic"]
    for result in (first, second):
        assert result.facts["care:fixed"] == {"fid": "care:fixed", "kind": "care", "rule": "fixed"}
        by_rule = {f.rule_id: f.conclusions for f in result.firings}
        assert by_rule == {"fixed": ("care:fixed",), "dynamic": ("dynamic:out",)}


def test_fixed_conclusions_are_validated_when_the_engine_is_built() -> None:
    with pytest.raises(FactRejected):
        RuleEngine(
            rules(r=[when("p", "plan")]), derive({}), fixed={"r": [{"fid": "", "kind": "x"}]}
        )


def test_match_messages_orjson_refuses_are_decoded_by_the_standard_library() -> None:
    # orjson rejects lone surrogates and NaN; the standard library accepts both.
    decode = runtime._decode  # noqa: SLF001
    assert decode('{"r": {"a": {"fid": "x", "v": NaN}}}')["r"]["a"]["fid"] == "x"
    assert decode('{"r": {"a": {"fid": "\\ud800"}}}')["r"]["a"]["fid"] == "\ud800"
    assert decode('{"r": {"a": {"fid": "y"}}}') == {"r": {"a": {"fid": "y"}}}


def test_derived_facts_equal_in_python_but_not_in_json_are_kept_apart() -> None:
    # _Core.normal keeps normalized derived facts between runs; True == 1 == 1.0 in Python.
    values = iter([True, 1, 1.0, True])

    def conclude(_rule_id: str, _bindings: Bindings) -> list[dict[str, Any]]:
        return [{"fid": "out", "kind": "derived", "v": next(values)}]

    with RuleEngine(rules(r=[when("p", "plan")]), conclude) as e:
        seen = [e.run([PLAN]).facts["out"]["v"] for _ in range(4)]
    assert [(type(v), v) for v in seen] == [(bool, True), (int, 1), (float, 1.0), (bool, True)]


def test_a_derived_fact_with_a_list_is_normalized_without_the_cache() -> None:
    def conclude(_rule_id: str, _bindings: Bindings) -> list[dict[str, Any]]:
        return [{"fid": "out", "kind": "derived", "v": ["a", "b"]}]

    with RuleEngine(rules(r=[when("p", "plan")]), conclude) as e:
        assert e.run([PLAN]).facts["out"]["v"] == ("a", "b")
        assert e.run([PLAN]).facts["out"]["v"] == ("a", "b")


_json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(),
)


@given(
    st.dictionaries(
        st.text(min_size=1), st.one_of(_json_scalars, st.lists(_json_scalars, max_size=3))
    )
)
def test_the_json_sent_to_durable_reads_back_as_the_standard_library_writes_it(
    fact: dict[str, Any],
) -> None:
    sent = runtime_support.encode_json(fact)
    assert json.loads(sent) == json.loads(runtime_support._JSON_ENCODE(fact))  # noqa: SLF001
    if not any(isinstance(v, float) for v in (*fact.values(), *fact.keys())):
        assert sent == runtime_support._JSON_ENCODE(fact)  # noqa: SLF001 - the same text


def test_text_orjson_refuses_is_encoded_by_the_standard_library() -> None:
    assert runtime_support.encode_json({"a": "\ud800"}) == '{"a":"\ud800"}'
    assert runtime_support.encode_json(2**64) == str(2**64)


def test_joins_with_more_frames_than_durables_frame_index_has_buckets() -> None:
    # vendor/durable-rules patch 4 shrank each beta node's frame index from 512 to 32 buckets
    # (hash chains grow instead). 60 x 60 facts joined on a shared key, with partial matches
    # every one of the 60 pairs fires exactly once, in every session.
    definition = rules(
        pair=[
            when("a", "a"),
            {"b": {"$and": [{"kind": "b"}, {"key": {"a": "key"}}]}},
        ]
    )
    facts = [{"fid": f"a{i}", "kind": "a", "key": f"k{i}"} for i in range(60)]
    facts += [{"fid": f"b{i}", "kind": "b", "key": f"k{(i * 7) % 60}"} for i in range(60)]
    random.Random(4).shuffle(facts)  # noqa: S311 - a fixed order, not cryptography
    with RuleEngine(definition, derive({})) as e:
        for _ in range(3):
            pairs = sorted(tuple(fid for _, fid in f.premises) for f in e.run(facts).firings)
            assert pairs == sorted((f"a{(i * 7) % 60}", f"b{i}") for i in range(60))


def test_session_ids_do_not_fill_the_fact_id_hash_cache() -> None:
    # Session ids never repeat: cached, they grew memory by one entry per assessment.
    with RuleEngine(rules(r=[when("p", "plan")]), derive({})) as e:
        e.run([PLAN])
        before = runtime_support.fact_hashes.cache_info().currsize
        for _ in range(50):
            e.run([PLAN])
        assert runtime_support.fact_hashes.cache_info().currsize == before
