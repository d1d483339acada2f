"""Terminology: canonical terms, their synonyms and brands, classes, and forgiving matching."""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from engine.model import Term, TermClass, TermKind

# Strengths and dose forms carry no identity: "aspirin 81 mg", "tretinoin 0.05% cream".
_STRENGTH = re.compile(
    r"\b\d+(?:[.,]\d+)?\s*(?:%|mg/ml|mg/g|mg|mcg|µg|ug|g|ml|iu|units?)(?=\s|$|[^a-z])",
)
_NUMBER = re.compile(r"\b\d+(?:[.,]\d+)?\b")
_NON_WORD = re.compile(r"[^a-z0-9%]+")
_FORMS = frozenset(
    {
        "tablet",
        "tablets",
        "tab",
        "tabs",
        "capsule",
        "capsules",
        "cap",
        "caps",
        "daily",
        "od",
        "bd",
        "tds",
        "prn",
        "po",
        "pill",
        "pills",
        "dose",
        "the",
    },
)
# Route and vehicle words tell topical from oral forms ("topical isotretinoin" is not oral
# isotretinoin): they are kept in the first lookup and only dropped as a last resort.
_ROUTES = frozenset(
    {"cream", "gel", "ointment", "lotion", "solution", "topical", "injection", "oral"}
)


def normalize(text: str) -> str:
    """Case-, accent- and punctuation-insensitive key; strengths dropped.

    Dose-form and route words are kept ("hydrocortisone tablets" is not topical hydrocortisone):
    ``Terminology.lookup`` drops them only in later, looser attempts.
    """
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    folded = _STRENGTH.sub(" ", folded)
    folded = _NON_WORD.sub(" ", folded)
    return " ".join(w for w in folded.split() if w != "%")


def lookup_keys(text: str) -> list[str]:
    """The keys tried for ``text``, strictest first (each drops more that carries no identity)."""
    return list(_lookup_keys(text))


@functools.lru_cache(maxsize=4096)  # the same names come back in case after case
def _lookup_keys(text: str) -> tuple[str, ...]:
    key = normalize(text)
    # A bare number may be a strength without a unit ("aspirin 81").
    bare = " ".join(_NUMBER.sub(" ", key).split())
    formless = " ".join(w for w in bare.split() if w not in _FORMS)
    routeless = " ".join(w for w in formless.split() if w not in _ROUTES)
    return tuple(dict.fromkeys(k for k in (key, bare, formless, routeless) if k))


@dataclass(frozen=True, slots=True, kw_only=True)
class Match:
    """A recognised entry: the canonical term and how it was recognised."""

    term: str
    """Canonical term (or class) id."""
    kind: TermKind
    via: str
    """``id``, ``synonym`` or ``brand``: how the text was recognised."""
    text: str
    """The text as entered."""
    is_a: tuple[str, ...]
    """The term itself and every class it belongs to, transitively, sorted."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Terminology:
    """Lookup tables built from the terminology files."""

    terms: Mapping[str, Term]
    classes: Mapping[str, TermClass]
    index: Mapping[tuple[TermKind, str], tuple[str, str]] = field(default_factory=dict)
    """(kind, normalized text) -> (term or class id, how)."""
    closure: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Term/class id -> itself plus all ancestors."""

    def lookup(self, text: str, kinds: Iterable[TermKind]) -> Match | None:
        """Recognise ``text`` as a term of one of ``kinds``; None when unrecognised."""
        for kind, probe in ((k, p) for p in _lookup_keys(text) for k in kinds):
            hit = self.index.get((kind, probe))
            if hit is not None:
                term_id, via = hit
                return Match(
                    term=term_id,
                    kind=kind,
                    via=via,
                    text=text,
                    is_a=self.closure.get(term_id, (term_id,)),
                )
        return None

    def title(self, term_id: str) -> str:
        """Human title of a term or class (its id when it has none)."""
        term = self.terms.get(term_id)
        if term is not None:
            return term.title or term.id.replace("_", " ")
        cls = self.classes.get(term_id)
        return cls.title if cls is not None else term_id.replace("_", " ")

    def known(self, term_id: str) -> bool:
        """True when the id is a term or a class."""
        return term_id in self.terms or term_id in self.classes


def build_terminology(
    terms: Iterable[Term],
    classes: Iterable[TermClass],
) -> tuple[Terminology, list[tuple[str, str]]]:
    """Build the lookup tables; also return (id, message) for every ambiguity found."""
    term_map = {t.id: t for t in terms}
    class_map = {c.id: c for c in classes}
    issues: list[tuple[str, str]] = []
    index: dict[tuple[TermKind, str], tuple[str, str]] = {}

    def add(kind: TermKind, text: str, target: str, via: str) -> None:
        key = (kind, normalize(text))
        if not key[1]:
            return
        previous = index.get(key)
        if previous is not None and previous[0] != target:
            if any(i[0] == target and f"'{text}'" in i[1] for i in issues):
                return
            issues.append(
                (
                    target,
                    (
                        f"'{text}' already names '{previous[0]}' ({kind}); it cannot also name"
                        f" '{target}'"
                    ),
                ),
            )
            return
        index.setdefault(key, (target, via))

    for cls in class_map.values():
        add(cls.kind, cls.id, cls.id, "class")
        add(cls.kind, cls.id.replace("_", " "), cls.id, "class")
        for syn in cls.synonyms:
            add(cls.kind, syn, cls.id, "synonym")
    for term in term_map.values():
        add(term.kind, term.id, term.id, "id")
        add(term.kind, term.id.replace("_", " "), term.id, "id")
        if term.title:
            add(term.kind, term.title, term.id, "id")
        for syn in term.synonyms:
            add(term.kind, syn, term.id, "synonym")
        for brand in term.brands:
            add(term.kind, brand, term.id, "brand")

    parents: dict[str, list[str]] = {k: list(v.is_a) for k, v in class_map.items()}
    parents.update({k: list(v.is_a) for k, v in term_map.items()})
    closure: dict[str, tuple[str, ...]] = {}
    for start in parents:
        seen: set[str] = set()
        stack = [start]
        while stack:
            node = stack.pop()
            if node in seen:
                continue
            seen.add(node)
            stack.extend(parents.get(node, ()))
        closure[start] = tuple(sorted(seen))
    return Terminology(terms=term_map, classes=class_map, index=index, closure=closure), issues
