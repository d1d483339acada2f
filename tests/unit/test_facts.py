"""Case answers to facts (engine/facts.py): sites, terms, phantoms, defaults and provenance."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from engine.case import case_from_data, load_case
from engine.facts import Fact, FactSet, Unrecognized, build_facts

if TYPE_CHECKING:
    from engine.knowledge import Knowledge

TODAY = dt.date(2026, 1, 15)


def _facts(
    knowledge: Knowledge, data: dict[str, Any], unanswer: frozenset[str] = frozenset()
) -> FactSet:
    return build_facts(knowledge, case_from_data(knowledge, data, today=TODAY), unanswer)


def _kind(facts: FactSet, kind: str) -> list[Fact]:
    return [f for f in facts.facts if f.kind == kind]


def _plan(*zones: str) -> dict[str, Any]:
    return {"indication": "fine_lines", "areas": [{"zone": z} for z in zones]}


def _condition(site: str | None, name: str = "atopic eczema") -> dict[str, Any]:
    entry: dict[str, Any] = {"name": name, "status": "active"}
    if site is not None:
        entry["site"] = site
    return entry


# --- sites -----------------------------------------------------------------------------------


def test_site_outside_every_planned_zone(mini_knowledge: Knowledge):
    facts = _facts(
        mini_knowledge,
        {"client": {"conditions": [_condition("forearms")]}, "plan": _plan("cheeks")},
    )
    [fact] = _kind(facts, "condition")
    assert fact.fid == "condition[0]"
    assert fact.fields["relation"] == "outside"
    assert "zone" not in fact.fields
    assert fact.fields["site"] == "forearms"


def test_site_covering_two_planned_zones_makes_two_facts(mini_knowledge: Knowledge):
    facts = _facts(
        mini_knowledge,
        {"client": {"conditions": [_condition("face")]}, "plan": _plan("cheeks", "forehead")},
    )
    conditions = _kind(facts, "condition")
    assert [(f.fid, f.fields["zone"], f.fields["relation"]) for f in conditions] == [
        ("condition[0]@cheeks", "cheeks", "in"),
        ("condition[0]@forehead", "forehead", "in"),
    ]
    assert all(f.entry_path == "client.conditions[0]" for f in conditions)
    assert all(f.fields["entry"] == 0 for f in conditions)


def test_a_planned_zone_near_a_covered_zone_is_near(mini_knowledge: Knowledge):
    # 'face' covers chin_jaw, which lists the neck as near; the abdomen is neither.
    facts = _facts(
        mini_knowledge,
        {
            "client": {"conditions": [_condition("face")]},
            "plan": _plan("cheeks", "neck", "abdomen"),
        },
    )
    assert [(f.fields["zone"], f.fields["relation"]) for f in _kind(facts, "condition")] == [
        ("cheeks", "in"),
        ("neck", "near"),
    ]


def test_site_near_a_planned_zone(mini_knowledge: Knowledge):
    facts = _facts(
        mini_knowledge,
        {"client": {"conditions": [_condition("perioral", "cold sore")]}, "plan": _plan("cheeks")},
    )
    [fact] = _kind(facts, "condition")
    assert (fact.fid, fact.fields["zone"], fact.fields["relation"]) == (
        "condition[0]@cheeks",
        "cheeks",
        "near",
    )


def test_near_is_symmetric(mini_knowledge: Knowledge):
    # neck lists chin_jaw as near; chin_jaw lists neck: either direction makes 'near'.
    facts = _facts(
        mini_knowledge,
        {"client": {"conditions": [_condition("neck")]}, "plan": _plan("chin_jaw", "hands")},
    )
    assert [(f.fields["zone"], f.fields["relation"]) for f in _kind(facts, "condition")] == [
        ("chin_jaw", "near")
    ]


def test_in_and_near_for_one_site(mini_knowledge: Knowledge):
    facts = _facts(
        mini_knowledge,
        {
            "client": {"conditions": [_condition("lips")]},
            "plan": _plan("perioral", "cheeks", "forehead"),
        },
    )
    assert [(f.fields["zone"], f.fields["relation"]) for f in _kind(facts, "condition")] == [
        ("perioral", "in"),
        ("cheeks", "near"),
    ]


def test_site_resolution_is_recorded(mini_knowledge: Knowledge):
    facts = _facts(
        mini_knowledge,
        {"client": {"conditions": [_condition("Under-eye")]}, "plan": _plan("infraorbital")},
    )
    [fact] = _kind(facts, "condition")
    assert fact.fields["site"] == "infraorbital"
    assert "site 'Under-eye' -> infraorbital" in fact.origin
    assert fact.paths["zone"] == "client.conditions[0].site"
    assert fact.paths["relation"] == "client.conditions[0].site"


def test_unanswered_site_leaves_zone_and_relation_unknown(mini_knowledge: Knowledge):
    facts = _facts(
        mini_knowledge, {"client": {"conditions": [_condition(None)]}, "plan": _plan("cheeks")}
    )
    [fact] = _kind(facts, "condition")
    assert "zone" not in fact.fields
    assert "relation" not in fact.fields
    assert fact.paths["zone"] == "client.conditions[0].site"


def test_unrecognised_site_is_listed_and_unknown(mini_knowledge: Knowledge):
    facts = _facts(
        mini_knowledge,
        {"client": {"conditions": [_condition("left pinky")]}, "plan": _plan("cheeks")},
    )
    [fact] = _kind(facts, "condition")
    assert "zone" not in fact.fields
    assert "relation" not in fact.fields
    assert Unrecognized(field="client.conditions[0].site", entry="left pinky") in facts.unrecognized
    assert "site 'left pinky' not recognised" in fact.origin


def test_sunburn_without_site_covers_exposed_planned_zones(mini_knowledge: Knowledge):
    facts = _facts(
        mini_knowledge,
        {"client": {"sun": {"sunburn_days_ago": 3}}, "plan": _plan("cheeks", "abdomen", "neck")},
    )
    suns = _kind(facts, "sun")
    assert [(f.fid, f.fields["zone"], f.fields["relation"]) for f in suns] == [
        ("sun@cheeks", "cheeks", "in"),
        ("sun@neck", "neck", "in"),
    ]  # the abdomen is not exposed
    assert all(f.fields["sunburn_days_ago"] == 3 for f in suns)
    assert all("sunburn_site: not given, taken as 'exposed'" in f.origin for f in suns)


def test_sunburn_with_a_site(mini_knowledge: Knowledge):
    facts = _facts(
        mini_knowledge,
        {
            "client": {"sun": {"sunburn_days_ago": 3, "sunburn_site": "forehead"}},
            "plan": _plan("cheeks", "forehead"),
        },
    )
    assert [(f.fields["zone"], f.fields["relation"]) for f in _kind(facts, "sun")] == [
        ("forehead", "in")
    ]


def test_sun_only_on_unexposed_zones_is_outside(mini_knowledge: Knowledge):
    facts = _facts(
        mini_knowledge, {"client": {"sun": {"tan_days_ago": 10}}, "plan": _plan("abdomen")}
    )
    [fact] = _kind(facts, "sun")
    assert fact.fields["relation"] == "outside"


# --- terms -----------------------------------------------------------------------------------


def test_recognised_medication_gets_its_term_and_classes(mini_knowledge: Knowledge):
    facts = _facts(
        mini_knowledge, {"client": {"medications": [{"name": "Eliquis 5 mg", "status": "current"}]}}
    )
    [fact] = _kind(facts, "medication")
    assert fact.fields["name"] == "apixaban"
    assert fact.fields["is_a"] == ["anticoagulant", "antithrombotic", "apixaban"]
    assert fact.paths["is_a"] == "client.medications[0].name"
    assert "'Eliquis 5 mg' -> apixaban (brand) -> anticoagulant, antithrombotic" in fact.origin
    assert facts.unrecognized == ()


def test_unrecognised_medication_keeps_its_text_and_has_no_is_a(mini_knowledge: Knowledge):
    facts = _facts(
        mini_knowledge, {"client": {"medications": [{"name": "Frobnicol", "status": "current"}]}}
    )
    [fact] = _kind(facts, "medication")
    assert fact.fields["name"] == "Frobnicol"
    assert "is_a" not in fact.fields
    assert fact.paths["is_a"] == "client.medications[0].name"
    assert facts.unrecognized == (
        Unrecognized(field="client.medications[0].name", entry="Frobnicol"),
    )
    assert "'Frobnicol' is not in the terminology" in fact.origin


def test_substance_terms_carry_intradermal(mini_knowledge: Knowledge):
    facts = _facts(
        mini_knowledge,
        {"plan": {"serums": ["device-supplied hydrogel", "lidocaine"], "anesthetic": "LMX4"}},
    )
    serums = _kind(facts, "serum")
    assert [(f.fid, f.fields["name"], f.fields.get("intradermal")) for f in serums] == [
        ("serum[0]", "hydrogel", True),
        ("serum[1]", "lidocaine", None),
    ]
    [anesthetic] = _kind(facts, "anesthetic")
    assert anesthetic.fields == {"name": "lidocaine", "is_a": ["lidocaine"]}


def test_no_anesthetic_makes_no_fact(mini_knowledge: Knowledge):
    facts = _facts(mini_knowledge, {"plan": {"anesthetic": None}})
    assert _kind(facts, "anesthetic") == []
    assert [p.kind for p in facts.phantoms if p.kind == "anesthetic"] == []


# --- unanswered, optional, defaults ----------------------------------------------------------


def test_unanswered_list_is_a_phantom(mini_knowledge: Knowledge):
    facts = _facts(mini_knowledge, {"client": {"age": 30, "conditions": []}})
    assert _kind(facts, "medication") == []
    phantom = next(p for p in facts.phantoms if p.kind == "medication")
    assert phantom.phantom
    assert phantom.fid == "medication[?]"
    assert phantom.fields == {}
    assert phantom.entry_path == "client.medications"
    assert set(phantom.paths) >= {"name", "status", "is_a"}
    assert set(phantom.paths.values()) == {"client.medications"}
    assert "condition" not in {p.kind for p in facts.phantoms}  # answered: an empty list


def test_every_unanswered_list_and_scalar_is_a_phantom(mini_knowledge: Knowledge):
    facts = _facts(mini_knowledge, {})
    assert {p.kind for p in facts.phantoms} == {
        "condition",
        "medication",
        "allergy",
        "procedure",
        "area",
        "serum",
        "anesthetic",
    }
    assert facts.planned_zones == ()


def test_phantoms_are_found_by_id(mini_knowledge: Knowledge):
    facts = _facts(mini_knowledge, {})
    assert "medication[?]" in facts.by_id()


def test_optional_field_absent_is_none(mini_knowledge: Knowledge):
    facts = _facts(mini_knowledge, {"client": {"age": 30}, "plan": {"device": "roller"}})
    [client] = _kind(facts, "client")
    assert client.fields["sex"] is None
    assert "pregnant" not in client.fields  # not optional: stays unknown
    assert client.paths["pregnant"] == "client.pregnant"
    [plan] = _kind(facts, "plan")
    assert plan.fields["device_model"] is None


def test_prescribed_defaults_to_true_with_an_origin_note(mini_knowledge: Knowledge):
    facts = _facts(
        mini_knowledge,
        {
            "client": {
                "medications": [{"name": "apixaban"}, {"name": "aspirin", "prescribed": False}]
            }
        },
    )
    first, second = _kind(facts, "medication")
    assert first.fields["prescribed"] is True
    assert "prescribed: not given, taken as True" in first.origin
    assert second.fields["prescribed"] is False
    assert not any(o.startswith("prescribed:") for o in second.origin)


def test_area_indication_defaults_from_the_plan(mini_knowledge: Knowledge):
    facts = _facts(
        mini_knowledge,
        {
            "plan": {
                "indication": "fine_lines",
                "areas": [{"zone": "cheeks"}, {"zone": "neck", "indication": "neck_wrinkles"}],
            }
        },
    )
    cheeks, neck = _kind(facts, "area")
    assert (cheeks.fid, cheeks.fields["indication"]) == ("area:cheeks", "fine_lines")
    assert "indication: from plan.indication" in cheeks.origin
    assert (neck.fid, neck.fields["indication"]) == ("area:neck", "neck_wrinkles")
    assert neck.origin == ()
    assert facts.planned_zones == ("cheeks", "neck")


def test_area_indication_without_plan_indication_is_unknown(mini_knowledge: Knowledge):
    facts = _facts(mini_knowledge, {"plan": {"areas": [{"zone": "cheeks"}]}})
    [area] = _kind(facts, "area")
    assert "indication" not in area.fields
    assert (
        area.paths["indication"] == "plan.indication"
    )  # answering the plan's indication decides it


def test_explicit_null_group_takes_null_means(mini_knowledge: Knowledge):
    facts = _facts(mini_knowledge, {"client": {"sun": None}, "plan": _plan("cheeks")})
    [sun] = _kind(facts, "sun")
    assert sun.fields["sunburn_days_ago"] is None
    assert sun.fields["tan_days_ago"] is None


def test_unanswer_removes_a_field(mini_knowledge: Knowledge):
    facts = _facts(
        mini_knowledge, {"client": {"pregnant": True, "sex": "M"}}, frozenset({"client.pregnant"})
    )
    [client] = _kind(facts, "client")
    assert "pregnant" not in client.fields
    assert client.fields["sex"] == "M"


def test_engine_dict_has_fid_and_kind(mini_knowledge: Knowledge):
    facts = _facts(mini_knowledge, {"plan": _plan("cheeks")})
    [area] = _kind(facts, "area")
    assert area.engine_dict() == {
        "fid": "area:cheeks",
        "kind": "area",
        "zone": "cheeks",
        "indication": "fine_lines",
        "entry": 0,
    }


def test_mini_case_facts(mini_knowledge: Knowledge):
    case = load_case(
        mini_knowledge, Path(__file__).parents[1] / "fixtures" / "cases" / "mini-complete.yaml"
    )
    facts = build_facts(mini_knowledge, case)
    assert facts.planned_zones == ("cheeks", "infraorbital", "neck")
    assert facts.phantoms == ()
    assert [f.fid for f in facts.facts] == [
        "client",
        "acne",
        "sun@cheeks",
        "sun@infraorbital",
        "sun@neck",
        "condition[0]",
        "medication[0]",
        "medication[1]",
        "medication[2]",
        "plan",
        "anesthetic",
        "area:cheeks",
        "area:infraorbital",
        "area:neck",
        "serum[0]",
    ]
    assert facts.unrecognized == (
        Unrecognized(field="client.medications[2].name", entry="Frobnicol"),
    )


@pytest.mark.parametrize(
    ("site", "relation"),
    [
        pytest.param("left pinky", None, id="unrecognised-site"),
        pytest.param("forearms", "outside", id="outside-every-planned-zone"),
    ],
)
def test_a_procedure_outside_or_unrecognised_has_no_zone(
    mini_knowledge: Knowledge, site: str, relation: str | None
):
    data = {
        "client": {"recent_procedures": [{"type": "peel", "zone": site, "days_ago": 5}]},
        "plan": _plan("cheeks"),
    }
    [fact] = _kind(_facts(mini_knowledge, data), "procedure")
    assert "zone" not in fact.fields
    assert fact.fields.get("relation") == relation
