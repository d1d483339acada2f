"""Data-driven properties of the shipped microneedling knowledge (DESIGN.md sections 4-6).

These tests read the knowledge and its case tests as data: they never name a rule to make it
pass. Where the engine cannot express something the knowledge needs, an ``xfail(strict=True)``
test documents the limitation with a minimal reproducing case (it starts failing loudly, and must
then be turned into a normal test, as soon as the engine is fixed).
"""

from __future__ import annotations

import copy
import datetime as dt
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from engine import Assessor, case_from_data, compile_knowledge, load_knowledge
from engine.casetest import load_case_test
from engine.logic import CareOut, FindingOut, LimitOut
from knowledge import DEFAULT_KNOWLEDGE

KNOWLEDGE = load_knowledge(DEFAULT_KNOWLEDGE)
CASES = sorted((DEFAULT_KNOWLEDGE / "cases").glob("*.yaml"))
STRONG_TIERS = {"regulator", "peer_reviewed", "society", "manufacturer"}
WEAK_TIERS = {"seed", "clinic", "consumer"}


@pytest.fixture(scope="module")
def assessor() -> Assessor:
    return Assessor(compile_knowledge(KNOWLEDGE))


def _case_files() -> list[tuple[Path, dict[str, Any]]]:
    return [(p, yaml.safe_load(p.read_text(encoding="utf-8"))) for p in CASES]


CASE_DATA = _case_files()


def _assess_file(assessor: Assessor, name: str):
    test = load_case_test(assessor.knowledge, DEFAULT_KNOWLEDGE / "cases" / name)
    return assessor.assess(test.case, verify=True)


# ------------------------------------------------------------------------------------ coverage
def _raised_codes() -> set[str]:
    """Every code some rule or the depth table can raise."""
    codes: set[str] = set()
    for rule in KNOWLEDGE.rules:
        if isinstance(rule.output, FindingOut):
            codes.add(rule.output.code)
        elif isinstance(rule.output, LimitOut) and rule.output.do_not_treat:
            codes.add(rule.output.do_not_treat)
    vf = KNOWLEDGE.depth.verdict_findings
    codes |= {vf.above_soft, vf.exceeds_hard, vf.no_sourced_limit}
    return codes


def test_there_are_at_least_60_case_tests():
    assert len(CASES) >= 60, len(CASES)


def test_every_catalogue_code_is_raised_by_a_rule_or_the_depth_table():
    missing = sorted(set(KNOWLEDGE.catalogue) - _raised_codes())
    assert not missing, f"catalogue codes no rule can raise: {missing}"


@pytest.mark.parametrize("code", sorted(KNOWLEDGE.catalogue))
def test_every_code_is_raised_by_at_least_one_case(code: str):
    raising = [
        p.name for p, d in CASE_DATA if code in ((d.get("expect") or {}).get("findings") or {})
    ]
    assert raising, f"no case test expects {code} to be raised"


@pytest.mark.parametrize("code", sorted(KNOWLEDGE.catalogue))
def test_every_code_is_correctly_absent_in_at_least_one_case(code: str):
    absent = [p.name for p, d in CASE_DATA if code in ((d.get("expect") or {}).get("absent") or [])]
    assert absent, f"no case test lists {code} under absent"


def test_every_case_has_a_note_a_decision_and_depth_verdicts():
    bad = []
    for path, data in CASE_DATA:
        expect = data.get("expect") or {}
        planned = (data.get("case") or {}).get("plan", {}).get("areas")
        if not data.get("note") or "decision" not in expect or "depth" not in expect:
            bad.append(path.name)
        elif planned and set(expect["depth"]) != {_zone(a["zone"]) for a in planned}:
            bad.append(path.name)  # every planned zone has its expected verdict
        elif not expect.get("findings") and not expect.get("absent"):
            bad.append(path.name)
    assert not bad, bad


def _zone(name: str) -> str:
    match = KNOWLEDGE.terminology.lookup(name, ["site"])
    return match.term if match is not None else name


def test_cases_without_expected_missing_answers_really_have_none(assessor: Assessor):
    """A case that does not expect open questions must not have any (no hidden unknowns)."""
    leaks = []
    for path, data in CASE_DATA:
        expect = data.get("expect") or {}
        if expect.get("missing") or expect.get("unrecognized"):
            continue
        result = _assess_file(assessor, path.name)
        if result.missing or result.unrecognized:
            leaks.append(
                (
                    path.name,
                    [m.field for m in result.missing],
                    [u.entry for u in result.unrecognized],
                )
            )
    assert not leaks, leaks


# ------------------------------------------------------------------------------------ texts
def _texts() -> Iterator[tuple[str, str]]:
    """(where, text) for every text the knowledge can show a practitioner or a client."""
    for code, entry in KNOWLEDGE.catalogue.items():
        for attr in ("title", "description", "advice"):
            yield f"catalogue {code}.{attr}", str(getattr(entry, attr) or "")
    for rule in KNOWLEDGE.rules:
        yield f"rule {rule.id}.title", rule.title
        yield f"rule {rule.id}.rationale", rule.rationale
        if rule.disputed:
            yield f"rule {rule.id}.disputed", rule.disputed
        out = rule.output
        if isinstance(out, FindingOut) and out.advice:
            yield f"rule {rule.id}.advice", out.advice
        if isinstance(out, CareOut):
            for i, item in enumerate(out.items):
                yield f"rule {rule.id}.{out.section}[{i}]", item.text


TEXTS = list(_texts())
DOSE = re.compile(
    r"\b\d+(?:[.,]\d+)?\s*(?:mg|mcg|µg|ug|g|ml|mL|units?|iu|IU)\b"
    r"|\b(?:once|twice|three times|four times)\s+(?:a\s+)?(?:daily|day|weekly)\b"
    r"|\b(?:bid|tid|qid|qds|tds|b\.i\.d|t\.i\.d)\b",
    re.IGNORECASE,
)
ANTITHROMBOTIC = re.compile(
    r"anticoag|antiplatelet|antithrombotic|blood[- ]thinn|aspirin|warfarin|apixaban|rivaroxaban|"
    r"dabigatran|edoxaban|heparin|enoxaparin|clopidogrel|ticagrelor|prasugrel|eliquis|xarelto|"
    r"plavix|doac",
    re.IGNORECASE,
)
STOP = re.compile(
    r"\b(?:stop|stops|stopping|stopped|discontinu\w*|hold|holding|withhold\w*|pause\w*|paus\w*|"
    r"skip\w*|omit\w*|suspend\w*|interrupt\w*|cease\w*|come off|taper\w*)\b",
    re.IGNORECASE,
)
NEGATION = re.compile(r"\b(?:never|not|no|without)\b", re.IGNORECASE)


def test_texts_are_collected():
    assert len(TEXTS) > 300


@pytest.mark.parametrize(
    ("where", "text"), [t for t in TEXTS if DOSE.search(t[1])] or [("none", "")]
)
def test_no_text_contains_a_drug_dose(where: str, text: str):
    assert not DOSE.search(text), f"{where}: dose-like text {DOSE.search(text)!r} in {text!r}"


def test_dose_pattern_catches_doses():
    for text in ("take 500 mg", "valaciclovir 2 g", "twice daily", "5 units", "1.5 ml"):
        assert DOSE.search(text), text
    for text in ("1.5 mm", "14 days", "316L steel", "SPF 30", "50 % of patches", "0.25-0.5 mm"):
        assert not DOSE.search(text), text


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.;:!?])\s+|\n", text) if s.strip()]


def _stopping_advice(text: str) -> list[str]:
    """Sentences that name a blood thinner and a stop/hold verb without a negation."""
    return [
        s
        for s in _sentences(text)
        if ANTITHROMBOTIC.search(s) and STOP.search(s) and not NEGATION.search(s)
    ]


def test_stop_advice_detector_works():
    assert _stopping_advice("Stop warfarin 5 days before the session.")
    assert _stopping_advice("Ask the client to pause their aspirin for a week.")
    assert _stopping_advice("Hold the DOAC the morning of treatment.")
    assert not _stopping_advice("Never stop a prescribed anticoagulant; the prescriber decides.")
    assert not _stopping_advice("Pause the topical retinoid for 7 days.")


def test_no_text_advises_stopping_an_anticoagulant_or_antiplatelet():
    offending = [(where, s) for where, text in TEXTS for s in _stopping_advice(text)]
    assert not offending, offending


def test_care_texts_never_mention_a_blood_thinner_change():
    """Pre-/aftercare is read by clients: blood thinners appear only to defer to the prescriber."""
    for rule in KNOWLEDGE.rules:
        if isinstance(rule.output, CareOut):
            for item in rule.output.items:
                if ANTITHROMBOTIC.search(item.text):
                    assert "prescriber" in item.text.lower(), (rule.id, item.text)


# ------------------------------------------------------------------------------------ provenance
def test_every_absolute_finding_rests_on_a_strong_source_or_records_the_dispute():
    weak = []
    for rule in KNOWLEDGE.rules:
        out = rule.output
        code = None
        if isinstance(out, FindingOut):
            code = out.code
        elif isinstance(out, LimitOut):
            code = out.do_not_treat or KNOWLEDGE.depth.verdict_findings.exceeds_hard
            if out.no_sourced_limit and not out.do_not_treat:
                continue
        if code is None or KNOWLEDGE.catalogue[code].level != "absolute":
            continue
        tiers = {KNOWLEDGE.sources[s].tier for s in rule.sources}
        if not tiers & STRONG_TIERS and not rule.disputed:
            weak.append((rule.id, code, sorted(tiers)))
    assert not weak, weak


def test_rules_resting_only_on_weak_sources_are_acknowledged():
    """Seed/clinic/consumer-only rules carry a reviewed silence of the weak-sources warning."""
    unacknowledged = [
        rule.id
        for rule in KNOWLEDGE.rules
        if {KNOWLEDGE.sources[s].tier for s in rule.sources} <= WEAK_TIERS
        and "rule.weak_sources" not in rule.silenced
    ]
    assert not unacknowledged, unacknowledged


def test_every_source_is_cited_or_explains_a_dispute():
    cited = {s for rule in KNOWLEDGE.rules for s in rule.sources}
    texts = " ".join(t for _, t in TEXTS)
    unused = [
        sid
        for sid, src in KNOWLEDGE.sources.items()
        if sid not in cited
        and not re.search(rf"[\[ ]{re.escape(sid)}[\],]", texts)
        and "nothing is encoded" not in (src.note or "")
    ]
    assert not unused, unused


# knowledge-research.md section 8: each point of real disagreement and the rules that must show it
DISAGREEMENTS = {
    "isotretinoin washout": ["timing.isotretinoin.current", "timing.isotretinoin.within_6m"],
    "darker skin": ["caution.fitzpatrick_iv_vi", "depth.fitzpatrick_iv_vi"],
    "maximum facial depth for scars": ["depth.cheeks_chin_jaw.scars"],
    "under-eye / crow's feet depth": ["depth.periocular"],
    "diabetes": ["cond.diabetes.uncontrolled", "cond.diabetes.controlled"],
    "eczema / psoriasis": ["cond.eczema.active_in_area", "cond.psoriasis.koebner"],
    "keloid history": ["contra.keloid.history_answer", "contra.keloid.condition"],
    "active acne": ["cond.acne.inflammatory_in_area", "cond.acne.inflammatory_condition_in_area"],
    "anticoagulants": ["med.anticoagulant.current", "med.antithrombotic.current_prescribed"],
    "toxin / filler intervals": ["timing.neurotoxin", "timing.filler"],
    "sunscreen in the first 24 h": ["care.after.sun"],
    "retinoid washout": ["timing.topical_retinoid.current", "timing.topical_retinoid.recent"],
    "session interval": ["timing.interval.plan", "timing.interval.last_session"],
    "product infusion": ["caution.serum.not_intradermal", "depth.product_penetration"],
}


@pytest.mark.parametrize(("point", "rule_ids"), sorted(DISAGREEMENTS.items()))
def test_every_research_disagreement_is_shown(point: str, rule_ids: list[str]):
    for rule_id in rule_ids:
        assert KNOWLEDGE.rule_index[rule_id].disputed, f"{point}: {rule_id} has no disputed note"


def test_waits_with_a_spread_record_it():
    """Every time window that only clinics give shows the spread as a disputed note."""
    lacking = [
        rule.id
        for rule in KNOWLEDGE.rules
        if isinstance(rule.output, FindingOut)
        and rule.output.wait_days is not None
        and {KNOWLEDGE.sources[s].tier for s in rule.sources} <= WEAK_TIERS
        and not rule.disputed
    ]
    # a single-source window (one clinic) has no spread to record; there are few of them
    assert len(lacking) <= 3, lacking


# ------------------------------------------------------------------------------------ depth table
INDICATIONS = tuple(KNOWLEDGE.vocabulary.field_spec("plan.indication").values)  # type: ignore[union-attr]


def _complete_case(**plan: Any) -> dict[str, Any]:
    base = yaml.safe_load((DEFAULT_KNOWLEDGE / "cases" / "01-clean-client.yaml").read_text())[
        "case"
    ]
    case = copy.deepcopy(base)
    case["plan"].update(plan)
    return case


@pytest.mark.parametrize("indication", INDICATIONS)
def test_depth_table_covers_every_zone_for_every_indication(assessor: Assessor, indication: str):
    areas = [{"zone": z, "depth_mm": 0.25} for z in KNOWLEDGE.zones]
    case = case_from_data(KNOWLEDGE, _complete_case(indication=indication, areas=areas))
    result = assessor.assess(case)
    for verdict in result.depth:
        assert verdict.verdict in {"within", "do_not_treat", "no_sourced_limit"}, (
            indication,
            verdict,
        )
        assert verdict.binding, (indication, verdict.zone)
        if verdict.verdict == "within":
            assert verdict.soft_flag_mm is not None, verdict
            assert verdict.hard_max_mm is not None, verdict
            assert verdict.soft_flag_mm <= verdict.hard_max_mm, verdict
            assert verdict.recommended_mm is not None, (indication, verdict.zone)
            low, high = verdict.recommended_mm
            assert low <= high <= verdict.soft_flag_mm, verdict
    assert {v.zone: v.verdict for v in result.depth}["eyelid"] == "do_not_treat"
    assert {v.zone: v.verdict for v in result.depth}["neck"] in {"no_sourced_limit", "within"}


def test_depth_rows_never_invent_a_neck_or_decollete_limit(assessor: Assessor):
    for indication in ("neck_wrinkles", "crepey_skin", "fine_lines"):
        areas = [{"zone": "neck", "depth_mm": 1.0}, {"zone": "decollete", "depth_mm": 1.0}]
        case = case_from_data(
            KNOWLEDGE, _complete_case(indication=indication, device_model="SkinPen", areas=areas)
        )
        result = assessor.assess(case)
        assert {v.verdict for v in result.depth} == {"no_sourced_limit"}, (indication, result.depth)


@pytest.mark.parametrize(
    ("indication", "recommended"),
    [
        ("acne_scars_atrophic", (1.0, 1.5)),
        ("surgical_scars", (1.0, 1.5)),
        ("fine_lines", (0.5, 1.5)),
    ],
)
def test_recommended_range_is_the_indication_specific_one(
    assessor: Assessor, indication: str, recommended: tuple[float, float]
):
    data = _complete_case(indication=indication, areas=[{"zone": "cheeks", "depth_mm": 1.0}])
    (cheeks,) = assessor.assess(case_from_data(KNOWLEDGE, data)).depth
    assert tuple(cheeks.recommended_mm or ()) == recommended


def test_fitzpatrick_adjustment_is_binding_on_the_face(assessor: Assessor):
    data = _complete_case(
        indication="acne_scars_atrophic", areas=[{"zone": "cheeks", "depth_mm": 1.6}]
    )
    data["client"]["fitzpatrick"] = "V"
    result = assessor.assess(case_from_data(KNOWLEDGE, data))
    (cheeks,) = result.depth
    assert cheeks.verdict == "above_soft"
    assert "depth.fitzpatrick_iv_vi" in cheeks.binding


# ------------------------------------------------------------------------------------ case details
WAIT_UNTIL = {
    "31-sunburn-3-days.yaml": {"SUNBURN_IN_AREA": "2026-12-09"},
    "35-isotretinoin-179-days.yaml": {"ISOTRETINOIN_WITHIN_6M": "2026-11-29"},
    "70-tca-peel-20-days.yaml": {"RECENT_RESURFACING": "2026-12-08"},
    "72-fraxel-10-days.yaml": {"RECENT_RESURFACING": "2026-12-02"},
    "73-co2-laser-60-days.yaml": {"RECENT_RESURFACING": "2026-12-28"},
    "75-facelift-200-days.yaml": {"RECENT_SURGERY_IN_AREA": "2027-05-12"},
    "78-differin-6-days.yaml": {"TOPICAL_RETINOID_WASHOUT": "2026-11-29"},
    "80-lip-filler-10-days.yaml": {"FILLER_TIMING": "2026-12-02"},
    "82-botox-glabella-near-forehead.yaml": {"NEUROTOXIN_TIMING": "2026-12-07"},
    "87-tan-5-days.yaml": {"RECENT_TAN_UV": "2026-12-07"},
    "89-last-session-10-days.yaml": {"INTERVAL_TOO_SHORT": "2026-12-02"},
    "98-upper-lip-wax.yaml": {"RECENT_HAIR_REMOVAL_IN_AREA": "2026-12-02"},
    "99-laser-hair-removal-10-days.yaml": {"RECENT_HAIR_REMOVAL_IN_AREA": "2026-12-02"},
    "128-exfoliants-recently-stopped.yaml": {"EXFOLIANT_ACID_WASHOUT": "2026-12-03"},
    "129-mole-removal-and-dermapen.yaml": {
        "RECENT_SURGERY_IN_AREA": "2027-01-27",
        "INTERVAL_TOO_SHORT": "2026-12-02",
    },
    "77-retin-a-current.yaml": {"TOPICAL_RETINOID_WASHOUT": None},  # still in use: no end date
    "34-isotretinoin-current.yaml": {"ISOTRETINOIN_CURRENT": None},
}


@pytest.mark.parametrize(("name", "expected"), sorted(WAIT_UNTIL.items()))
def test_wait_until_dates(assessor: Assessor, name: str, expected: dict[str, str | None]):
    result = _assess_file(assessor, name)
    got = {f.code: f.wait_until for f in result.findings if f.code in expected}
    assert got == expected


INCONSISTENT = {
    "55-clearance-of-absolute-refused.yaml": "policy.clearances",
    "57-override-pregnancy-refused.yaml": "policy.overrides",
    "61-keloid-contradiction.yaml": "consistency.keloid.listed_condition",
    "111-consistency-cold-sore.yaml": "consistency.hsv_history.active_lesion",
    "112-consistency-current-with-stop-date.yaml": "consistency.medication.current_with_stop_date",
    "113-consistency-pregnant-male.yaml": "consistency.pregnant.sex_male",
    "114-consistency-acne.yaml": "consistency.active_acne.listed_condition",
    "124-consistency-breastfeeding-male.yaml": "consistency.breastfeeding.sex_male",
}


@pytest.mark.parametrize(("name", "check"), sorted(INCONSISTENT.items()))
def test_inconsistencies_are_reported(assessor: Assessor, name: str, check: str):
    result = _assess_file(assessor, name)
    assert check in {i.check for i in result.inconsistencies}, result.inconsistencies


def test_clean_cases_report_no_inconsistency(assessor: Assessor):
    for name in (
        "01-clean-client.yaml",
        "117-clean-body-striae.yaml",
        "118-clean-male-roller-scars.yaml",
    ):
        assert not _assess_file(assessor, name).inconsistencies, name


def test_clearance_and_override_marks(assessor: Assessor):
    cleared = {f.code: f for f in _assess_file(assessor, "54-clopidogrel-cleared.yaml").findings}
    assert cleared["ANTICOAG_ANTIPLATELET"].cleared is not None
    refused = {
        f.code: f for f in _assess_file(assessor, "55-clearance-of-absolute-refused.yaml").findings
    }
    assert refused["BLEEDING_DISORDER"].cleared is None
    overridden = {
        f.code: f for f in _assess_file(assessor, "56-override-fitzpatrick.yaml").findings
    }
    assert overridden["FST_IV_VI_PIH"].overridden is not None
    kept = {
        f.code: f for f in _assess_file(assessor, "57-override-pregnancy-refused.yaml").findings
    }
    assert kept["PREGNANCY"].overridden is None


def test_disputed_notes_reach_the_output(assessor: Assessor):
    findings = {f.code: f for f in _assess_file(assessor, "35-isotretinoin-179-days.yaml").findings}
    assert findings["ISOTRETINOIN_WITHIN_6M"].disputed


def test_missing_answers_are_most_severe_first(assessor: Assessor):
    result = _assess_file(assessor, "121-unrecognised-condition-in-area.yaml")
    (entry,) = [m for m in result.missing if m.field == "client.conditions[0].name"]
    levels = [KNOWLEDGE.catalogue[c].level for c in entry.could_raise]
    rank = {"absolute": 0, "relative": 1, "caution": 2, "info": 3}
    assert levels == sorted(levels, key=rank.__getitem__)
    assert levels[0] == "absolute"


# ------------------------------------------------------------------------------------ terminology
# (text, kind, must be a, must not be a)
LOOKUPS = [
    ("Eliquis 5 mg", "medication", "anticoagulant", None),
    ("XARELTO 20mg", "medication", "anticoagulant", None),
    ("warfarin sodium", "medication", "anticoagulant", None),
    ("Clexane", "medication", "anticoagulant", None),
    ("aspirin 81 mg", "medication", "antiplatelet", "anticoagulant"),
    ("Plavix 75mg", "medication", "antiplatelet", None),
    ("blood thinner", "medication", "antithrombotic", None),
    ("Roaccutane 20 mg", "medication", "systemic_retinoid", "topical_retinoid"),
    ("oral isotretinoin", "medication", "systemic_retinoid", "topical_retinoid"),
    ("topical isotretinoin", "medication", "topical_retinoid", "systemic_retinoid"),
    ("isotretinoin gel", "medication", "topical_retinoid", "systemic_retinoid"),
    ("Isotrex", "medication", "topical_retinoid", "systemic_retinoid"),
    ("tretinoin 0.05% cream", "medication", "topical_retinoid", "systemic_retinoid"),
    ("oral tretinoin", "medication", "systemic_retinoid", "topical_retinoid"),
    ("Retin-A", "medication", "topical_retinoid", None),
    ("Epiduo", "medication", "topical_retinoid", None),
    ("tacrolimus ointment", "medication", "topical_calcineurin_inhibitor", "immunosuppressive"),
    ("Protopic 0.1%", "medication", "topical_calcineurin_inhibitor", "immunosuppressive"),
    ("Prograf", "medication", "immunosuppressant", None),
    ("tacrolimus", "medication", "immunosuppressant", None),
    ("hydrocortisone cream", "medication", "corticosteroid_for_skin", "systemic_corticosteroid"),
    ("hydrocortisone 1% cream", "medication", "corticosteroid_for_skin", "immunosuppressive"),
    ("steroid cream", "medication", "corticosteroid_for_skin", "immunosuppressive"),
    ("topical steroid", "medication", "corticosteroid_for_skin", "immunosuppressive"),
    ("prednisolone 5 mg tablets", "medication", "systemic_corticosteroid", None),
    ("oral steroids", "medication", "systemic_corticosteroid", None),
    ("Opzelura", "medication", "topical_immunomodulator", "immunosuppressive"),
    ("Jakafi", "medication", "immunosuppressant", None),
    ("Voltaren gel", "medication", "topical_nsaid", "nsaid"),
    ("Nurofen", "medication", "nsaid", None),
    ("Humira", "medication", "immunosuppressive", None),
    ("methotrexate injection", "medication", "immunosuppressant", None),
    ("Dupixent", "medication", "biologic_other", "immunosuppressive"),
    (
        "fluticasone nasal spray",
        "medication",
        "inhaled_or_nasal_corticosteroid",
        "immunosuppressive",
    ),
    ("atopic dermatitis", "condition", "eczema_dermatitis", None),
    ("Eczema", "condition", "eczema_dermatitis", None),
    ("herpes labialis", "condition", "herpes_simplex", None),
    ("cold sores", "condition", "herpes_simplex", None),
    ("hemophilia", "condition", "bleeding_disorder", None),
    ("von Willebrand disease", "condition", "bleeding_disorder", None),
    ("folliculitis", "condition", "skin_infection", None),
    ("impetigo", "condition", "skin_infection", None),
    ("shingles", "condition", "skin_infection", None),
    ("type II diabetes", "condition", "diabetes", None),
    ("prediabetes", "condition", "other_medical_condition", "diabetes"),
    ("lupus", "condition", "collagen_vascular_disease", None),
    ("BCC", "condition", "malignant_or_suspicious_lesion", None),
    ("actinic keratosis", "condition", "malignant_or_suspicious_lesion", None),
    ("psoriatic arthritis", "condition", "psoriasis", None),
    ("lignocaine", "substance", "amide_anesthetic", "ester_anesthetic"),
    ("EMLA", "substance", "amide_anesthetic", None),
    ("benzocaine", "substance", "ester_anesthetic", "amide_anesthetic"),
    ("surgical steel", "substance", "metal", "contact_allergen_metal"),
    ("nickel", "substance", "contact_allergen_metal", None),
    ("vitamin C serum", "substance", "cosmetic_serum", "procedure_topical"),
    ("device-supplied hydrogel", "substance", "procedure_topical", "cosmetic_serum"),
    ("Botox", "procedure", "neurotoxin", None),
    ("Juvederm", "procedure", "dermal_filler", None),
    ("Profhilo", "procedure", "dermal_filler", None),
    ("TCA peel", "procedure", "peel_or_abrasion", None),
    ("IPL", "procedure", "laser_or_light", None),
    ("fractional CO2", "procedure", "deep_resurfacing", None),
    ("Morpheus8", "procedure", "microneedling", None),
    ("tummy tuck", "procedure", "surgery", None),
    ("blepharoplasty", "procedure", "facial_surgery", None),
    ("upper lip wax", "procedure", "hair_removal", None),
    ("under-eye", "site", "infraorbital", None),
    ("crow's feet", "site", "lateral_canthal", None),
    ("Crows Feet", "site", "lateral_canthal", None),
    ("upper lip", "site", "perioral", None),
    ("jawline", "site", "chin_jaw", None),
    ("décolleté", "site", "decollete", None),
]


@pytest.mark.parametrize(("text", "kind", "is_a", "is_not"), LOOKUPS)
def test_terminology_lookup(text: str, kind: str, is_a: str, is_not: str | None):
    match = KNOWLEDGE.terminology.lookup(text, [kind])  # type: ignore[list-item]
    assert match is not None, f"{text!r} is not recognised"
    assert is_a in match.is_a, (text, match.term, match.is_a)
    if is_not is not None:
        assert is_not not in match.is_a, (text, match.term, match.is_a)


@pytest.mark.parametrize("text", ["clotting disorder", "triamcinolone", "supplements", "Frobnicol"])
def test_ambiguous_names_stay_unrecognised(text: str):
    """A name with two readings of different consequence is asked about, never guessed."""
    assert KNOWLEDGE.terminology.lookup(text, ["medication", "condition"]) is None


def test_substances_that_can_be_applied_say_whether_they_are_intradermal():
    applied = {"topical_product", "local_anesthetic", "antiseptic", "metal"}
    unset = [
        t.id
        for t in KNOWLEDGE.terminology.terms.values()
        if t.kind == "substance"
        and set(KNOWLEDGE.terminology.closure.get(t.id, ())) & applied
        and t.intradermal is None
    ]
    assert not unset, unset


def test_only_sterile_procedure_products_are_intradermal():
    intradermal = {t.id for t in KNOWLEDGE.terminology.terms.values() if t.intradermal}
    for term_id in intradermal:
        assert "procedure_topical" in KNOWLEDGE.terminology.closure[term_id], term_id


# ------------------------------------------------------------------------------------ release
def test_release_is_unreviewed_and_says_so():
    """No real clinical reviewer exists: reviewed_by/on stay null and check warns about it."""
    assert KNOWLEDGE.manifest.reviewed_by is None
    assert KNOWLEDGE.manifest.reviewed_on is None
    assert any(w.code == "release.unreviewed" for w in KNOWLEDGE.warnings)
    safety = (DEFAULT_KNOWLEDGE.parent.parent / "docs" / "clinical-safety.md").read_text(
        encoding="utf-8"
    )
    assert "unreviewed" in safety.lower()


# ------------------------------------------------------------------------------------ engine limits
# These were strict xfails documenting engine limitations found while writing this knowledge; the
# engine fixed them (commit 3af6d27), so they now guard against regressions.
def test_dose_form_words_distinguish_oral_forms():
    """'hydrocortisone tablets' is the oral steroid; plain 'hydrocortisone' stays the cream."""
    oral = KNOWLEDGE.terminology.lookup("hydrocortisone tablets", ["medication"])
    assert oral is not None
    assert "systemic_corticosteroid" in oral.is_a
    cream = KNOWLEDGE.terminology.lookup("hydrocortisone", ["medication"])
    assert cream is not None
    assert "corticosteroid_for_skin" in cream.is_a


def test_unknown_soft_adjustment_is_not_an_absolute_question(assessor: Assessor):
    """An unanswered Fitzpatrick type only feeds a soft flag: it must not make NEEDS_ANSWERS."""
    data = _complete_case()
    del data["client"]["fitzpatrick"]
    result = assessor.assess(case_from_data(KNOWLEDGE, data))
    could = {c for m in result.missing for c in m.could_raise}
    assert "DEPTH_EXCEEDS_AREA_MAX" not in could
    assert result.decision == "PROCEED"


def test_device_model_matching_is_case_insensitive(assessor: Assessor):
    data = _complete_case(
        indication="striae", device_model="SKINpen", areas=[{"zone": "thighs", "depth_mm": 1.8}]
    )
    (thighs,) = assessor.assess(case_from_data(KNOWLEDGE, data)).depth
    assert thighs.verdict == "above_soft"


def test_weak_sources_warning_counts_consumer_sources(tmp_path: Path):
    kb = tmp_path / "kb"
    shutil.copytree(DEFAULT_KNOWLEDGE, kb)
    rules = kb / "rules" / "timing.yaml"
    text = rules.read_text(encoding="utf-8")
    start = text.index("  - id: timing.hydroquinone.current")
    block = text[start : text.index("  - id: timing.hydroquinone.recent")]
    edited = re.sub(r"    silence:\n      - \{[^\n]*\}\n", "", block).replace(
        "sources: [C8]", "sources: [C8, K10]"
    )
    rules.write_text(text.replace(block, edited), encoding="utf-8")
    knowledge = load_knowledge(kb)
    assert any(
        w.code == "rule.weak_sources" and "timing.hydroquinone.current" in w.message
        for w in knowledge.warnings
    )


def test_consultation_dates_in_cases_are_fixed():
    """Day windows use the consultation date: every case test pins it so results never drift."""
    for path, data in CASE_DATA:
        assert isinstance(data["case"].get("consultation_date"), dt.date), path.name
