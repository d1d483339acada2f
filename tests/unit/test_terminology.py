"""Terminology (engine/terminology.py): forgiving matching, synonyms and brands, class closure."""

from __future__ import annotations

import pytest

from engine.model import Term, TermClass
from engine.terminology import Terminology, build_terminology, lookup_keys, normalize

CLASSES = [
    TermClass(id="antithrombotic", kind="medication", title="Antithrombotic"),
    TermClass(
        id="anticoagulant", kind="medication", title="Anticoagulant", is_a=["antithrombotic"]
    ),
    TermClass(id="antiplatelet", kind="medication", title="Antiplatelet", is_a=["antithrombotic"]),
    TermClass(
        id="retinoid", kind="medication", title="Retinoid", synonyms=["vitamin A derivative"]
    ),
    TermClass(
        id="rx_retinoid", kind="medication", title="Prescription retinoid", is_a=["retinoid"]
    ),
    TermClass(id="eczema_dermatitis", kind="condition", title="Eczema or dermatitis"),
]
TERMS = [
    Term(id="apixaban", kind="medication", brands=["Eliquis"], is_a=["anticoagulant"]),
    Term(
        id="aspirin",
        kind="medication",
        synonyms=["acetylsalicylic acid"],
        brands=["Disprin"],
        is_a=["antiplatelet"],
    ),
    Term(id="tretinoin", kind="medication", brands=["Retin-A"], is_a=["rx_retinoid"]),
    Term(id="lidocaine", kind="substance", title="Lidocaine", brands=["LMX4"]),
    Term(
        id="atopic_dermatitis",
        kind="condition",
        synonyms=["atopic eczema", "eczema"],
        is_a=["eczema_dermatitis"],
    ),
    Term(id="lidocaine_allergy", kind="medication", title="Lignocaine"),
]


@pytest.fixture(scope="module")
def terminology() -> Terminology:
    built, issues = build_terminology(TERMS, CLASSES)
    assert issues == []
    return built


@pytest.mark.parametrize(
    ("text", "kind", "term"),
    [
        ("aspirin 81 mg", "medication", "aspirin"),
        ("Aspirin 81mg", "medication", "aspirin"),
        ("aspirin 81", "medication", "aspirin"),
        ("ASPIRIN 75 MG TABLETS", "medication", "aspirin"),
        ("Tretinoin 0.05% cream", "medication", "tretinoin"),
        ("tretinoin 0,025 % gel", "medication", "tretinoin"),
        ("ELIQUIS", "medication", "apixaban"),
        ("Eliquis 5 mg", "medication", "apixaban"),
        ("eliquis\u00ae", "medication", "apixaban"),
        ("  apixaban  ", "medication", "apixaban"),
        ("atopic-eczema", "condition", "atopic_dermatitis"),
        ("Atopic Eczema", "condition", "atopic_dermatitis"),
        ("atopic_dermatitis", "condition", "atopic_dermatitis"),
        ("atopic dermatitis", "condition", "atopic_dermatitis"),
        ("L\u00cdDOCAINE", "substance", "lidocaine"),
    ],
)
def test_case_punctuation_and_strength_insensitive(
    terminology: Terminology,
    text: str,
    kind: str,
    term: str,
):
    match = terminology.lookup(text, [kind])  # type: ignore[list-item]
    assert match is not None
    assert match.term == term
    assert match.kind == kind
    assert match.text == text


@pytest.mark.parametrize(
    ("text", "term", "via"),
    [
        ("apixaban", "apixaban", "id"),
        ("Eliquis", "apixaban", "brand"),
        ("Disprin", "aspirin", "brand"),
        ("acetylsalicylic acid", "aspirin", "synonym"),
        ("Retin-A", "tretinoin", "brand"),
        ("anticoagulant", "anticoagulant", "class"),
        ("vitamin A derivative", "retinoid", "synonym"),
        ("rx-retinoid", "rx_retinoid", "class"),
        ("lignocaine", "lidocaine_allergy", "id"),  # a title is recognised like the id
    ],
)
def test_brands_synonyms_and_classes(terminology: Terminology, text: str, term: str, via: str):
    match = terminology.lookup(text, ["medication"])
    assert match is not None
    assert (match.term, match.via) == (term, via)


def test_kinds_are_searched_in_the_given_order_only(terminology: Terminology):
    assert terminology.lookup("LMX4", ["medication"]) is None
    match = terminology.lookup("LMX4", ["medication", "substance"])
    assert match is not None
    assert (match.term, match.kind) == ("lidocaine", "substance")


@pytest.mark.parametrize(
    ("term", "closure"),
    [
        ("apixaban", ("anticoagulant", "antithrombotic", "apixaban")),
        ("aspirin", ("antiplatelet", "antithrombotic", "aspirin")),
        ("tretinoin", ("retinoid", "rx_retinoid", "tretinoin")),
        ("anticoagulant", ("anticoagulant", "antithrombotic")),
        ("lidocaine", ("lidocaine",)),
    ],
)
def test_class_closure_is_transitive(terminology: Terminology, term: str, closure: tuple[str, ...]):
    assert terminology.closure[term] == closure


def test_a_match_carries_the_closure(terminology: Terminology):
    match = terminology.lookup("Eliquis 2.5 mg", ["medication"])
    assert match is not None
    assert match.is_a == ("anticoagulant", "antithrombotic", "apixaban")


def test_closure_survives_a_cycle():
    built, _ = build_terminology(
        [Term(id="t", kind="medication", is_a=["a"])],
        [
            TermClass(id="a", kind="medication", title="A", is_a=["b"]),
            TermClass(id="b", kind="medication", title="B", is_a=["a"]),
        ],
    )
    assert built.closure["t"] == ("a", "b", "t")


@pytest.mark.parametrize("text", ["Frobnicol", "", "   ", "5 mg", "apixabanx", "eliquis plus"])
def test_unknown_is_none(terminology: Terminology, text: str):
    assert terminology.lookup(text, ["medication", "condition", "substance"]) is None


def test_a_term_of_another_kind_is_not_recognised(terminology: Terminology):
    assert terminology.lookup("eczema", ["medication"]) is None
    assert terminology.lookup("Eliquis", ["condition"]) is None


def test_title_and_known(terminology: Terminology):
    assert terminology.title("lidocaine") == "Lidocaine"
    assert terminology.title("apixaban") == "apixaban"
    assert terminology.title("rx_retinoid") == "Prescription retinoid"
    assert terminology.title("not_a_term") == "not a term"
    assert terminology.known("apixaban")
    assert terminology.known("antithrombotic")
    assert not terminology.known("Eliquis")


# --- ambiguity -------------------------------------------------------------------------------


def test_a_synonym_of_two_terms_is_ambiguous():
    _, issues = build_terminology(
        [
            Term(id="apixaban", kind="medication", brands=["Eliquis"]),
            Term(id="rivaroxaban", kind="medication", synonyms=["ELIQUIS"]),
        ],
        [],
    )
    assert len(issues) == 1
    target, message = issues[0]
    assert target == "rivaroxaban"
    assert "'ELIQUIS' already names 'apixaban' (medication)" in message


def test_ambiguity_is_judged_on_normalised_text():
    _, issues = build_terminology(
        [
            Term(id="tretinoin", kind="medication", synonyms=["retinoic acid"]),
            Term(id="isotretinoin", kind="medication", synonyms=["Retinoic-Acid 20 mg"]),
        ],
        [],
    )
    assert [t for t, _ in issues] == ["isotretinoin"]


def test_a_class_and_a_term_of_one_name_are_ambiguous():
    _, issues = build_terminology(
        [Term(id="warfarin", kind="medication", synonyms=["anticoagulant"])],
        [TermClass(id="anticoagulant", kind="medication", title="Anticoagulant")],
    )
    assert [t for t, _ in issues] == ["warfarin"]


def test_one_name_in_two_kinds_is_not_ambiguous():
    _, issues = build_terminology(
        [
            Term(id="lidocaine", kind="substance"),
            Term(id="lidocaine", kind="medication"),
        ],
        [],
    )
    assert issues == []


def test_repeating_a_name_for_the_same_term_is_not_ambiguous():
    _, issues = build_terminology(
        [
            Term(
                id="apixaban",
                kind="medication",
                title="Apixaban",
                synonyms=["apixaban", "APIXABAN"],
            )
        ],
        [],
    )
    assert issues == []


def test_first_meaning_wins_when_ambiguous():
    built, issues = build_terminology(
        [
            Term(id="apixaban", kind="medication", brands=["Eliquis"]),
            Term(id="rivaroxaban", kind="medication", brands=["Eliquis"]),
        ],
        [],
    )
    assert len(issues) == 1
    match = built.lookup("Eliquis", ["medication"])
    assert match is not None
    assert match.term == "apixaban"


# --- normalisation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("aspirin 81 mg", "aspirin"),
        ("Tretinoin 0.05% cream", "tretinoin cream"),  # route words are kept in the key
        ("ELIQUIS", "eliquis"),
        ("atopic-eczema", "atopic eczema"),
        ("Apixaban 2.5mg tablets", "apixaban tablets"),  # forms are dropped only at lookup
        ("5 mg apixaban", "apixaban"),
        ("\u00c9liquis", "eliquis"),
        ("vitamin B12", "vitamin b12"),
        ("LMX4", "lmx4"),
        ("aspirin 81\u00b5g", "aspirin"),
        ("insulin 10 units", "insulin"),
    ],
)
def test_normalize(text: str, key: str):
    assert normalize(text) == key


def test_lookup_keys_drop_forms_then_routes_last():
    assert lookup_keys("Hydrocortisone 1% cream tablets") == [
        "hydrocortisone cream tablets",
        "hydrocortisone cream",
        "hydrocortisone",
    ]


@pytest.mark.parametrize(
    "text",
    ["Lidocaine 20 mg/ml", "lidocaine 20mg/ml solution"],
)
def test_concentration_units_are_dropped(terminology: Terminology, text: str):
    assert normalize(text).split()[0] == "lidocaine"
    assert terminology.lookup(text, ["substance"]) is not None


def test_a_dose_form_word_inside_a_class_name_keeps_it_distinct():
    built, issues = build_terminology(
        [],
        [
            TermClass(id="corticosteroid", kind="medication", title="Systemic corticosteroid"),
            TermClass(
                id="topical_corticosteroid", kind="medication", title="Topical corticosteroid"
            ),
        ],
    )
    assert issues == []
    match = built.lookup("topical corticosteroid", ["medication"])
    assert match is not None
    assert match.term == "topical_corticosteroid"
