"""Completion of typed names (conditions, medicines, sites...) from the terminology.

Pure (no Textual): ``AnswerInput`` asks a ``CompletionIndex`` on every keystroke, so the index
is built once per knowledge (``build_setup``, off the UI thread) and a query only does
dictionary look-ups, binary searches and one linear substring scan.

What a practitioner types is matched case-, accent- and punctuation-insensitively, in tiers:
exact name, prefix of a name, prefix of a word inside a name ("dermatitis" finds "Atopic
dermatitis"), substring, then a one-edit typo in a word of five or more letters ("isotretinon").
A trailing strength ("aspirin 81", "asp 75 mg", "0.05 %") is set aside while matching and
kept when the completion is accepted. Within a tier, canonical names (titles, ids, sites) come
before synonyms and brands, then shorter before longer.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, TypeVar

from engine.vocabulary import fold_text

MatchKind = Literal["exact", "prefix", "word", "substring", "fuzzy"]
"""How a completion matched, best first."""
TIERS: dict[MatchKind, int] = {"exact": 0, "prefix": 1, "word": 2, "substring": 3, "fuzzy": 4}
Via = Literal["id", "class", "site", "synonym", "brand"]
"""What kind of name a candidate is: canonical (id, class, site) or another name for one."""
_VIA_RANK: dict[Via, int] = {"id": 0, "class": 0, "site": 0, "synonym": 1, "brand": 2}

FUZZY_MIN = 5
"""Typo tolerance (one edit) only for words of at least this many letters."""
SUBSTRING_MIN = 3
"""Substring matches only for queries of at least this many characters."""

# A strength after the name ("81", "0.05 %", "75mg", "2.5 mg", or "75 m" while typing "mg"):
# set aside while matching and kept on accept. Numbers and units only: other words ("cream",
# "daily") are part of what is matched.
_UNIT = r"(?:%|m(?:g|cg?|l)?(?:/(?:ml?|g)?)?|[u\u00b5]g?|g|iu?|u(?:n(?:i(?:ts?)?)?)?)"
"""Units of a strength, and their beginnings while the unit is being typed ("m" for "mg")."""
_STRENGTH_TAIL = re.compile(rf"(?:\s+\d+(?:[.,]\d+)?\s*(?:{_UNIT}(?![a-z]))?)+\s*$", re.IGNORECASE)
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")
_DIGIT = re.compile(r"\d")
_K = TypeVar("_K", bound=Hashable)
_APOSTROPHES = re.compile(r"['\u2019\u2018`]")


@functools.lru_cache(maxsize=1 << 14)
def fold(text: str) -> str:
    """The matching key: case, accents, punctuation ignored; apostrophes dropped ("crow's").

    ``engine.vocabulary.fold_text`` (as rules compare text), with a fast path for plain ASCII.
    """
    text = _APOSTROPHES.sub("", text)
    if not text.isascii():
        return fold_text(text)
    return " ".join(_NOT_ALNUM.sub(" ", text.lower()).split())


@dataclass(frozen=True, slots=True, kw_only=True)
class Candidate:
    """A name the field can complete to."""

    text: str
    """The name as the field shows and accepts it ("Eliquis")."""
    via: Via = "id"
    target: str = ""
    """The canonical name it stands for when that reads differently ("Apixaban"); else ''."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Completion:
    """A ranked completion of what was typed."""

    candidate: Candidate
    kind: MatchKind
    text: str
    """The value accepting it gives: the candidate's name plus any strength typed after it."""


@dataclass(frozen=True, slots=True)
class _Query:
    key: str
    tail: str
    """Text kept on accept (the strength set aside), '' when the whole text was matched."""


def ghost_text(typed: str, completion: Completion) -> str:
    """What a field shows after the typed text for a completion ('' when nothing to add).

    The rest of the name when it starts with what was typed ("Eliq" + "uis · Apixaban"), else
    the whole name after an arrow ("isotretinon" + "  → isotretinoin · ..."); then the canonical
    term that a synonym or brand stands for.
    """
    text = completion.text
    if fold(text) == fold(typed):
        return ""
    target = f" · {completion.candidate.target}" if completion.candidate.target else ""
    if len(text) > len(typed) and text[: len(typed)].casefold() == typed.casefold():
        return text[len(typed) :] + target
    return f"  → {text}{target}"


def offer_text(completion: Completion, position: int = 0, count: int = 1) -> str:
    """The line under a field describing the offered completion (its canonical term too)."""
    line = f"→ accepts {completion.text}"
    if completion.candidate.target:
        line += f" · {completion.candidate.target}"
    if count > 1:
        line += f" ({position + 1}/{count}, ↓ next)"
    return line


def split_strength(text: str) -> tuple[str, str]:
    """(name, strength tail): ``"aspirin 81 mg"`` -> ``("aspirin", " 81 mg")``."""
    match = _STRENGTH_TAIL.search(text)
    if match is None or not text[: match.start()].strip():
        return text, ""
    return text[: match.start()], text[match.start() :]


def _queries(text: str) -> list[_Query]:
    key = fold(text)
    out = [_Query(key, "")] if key else []
    name, tail = split_strength(text)
    if tail:
        name_key = fold(name)
        if name_key and name_key != key:
            out.append(_Query(name_key, tail.rstrip()))
    return out


def within_one_edit(a: str, b: str) -> bool:
    """True when ``a`` and ``b`` are at most one edit apart.

    An edit inserts, deletes or substitutes one character, or swaps two neighbouring ones
    (optimal string alignment distance <= 1).
    """
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    if la > lb:
        a, b, la, lb = b, a, lb, la
    i = 0
    while i < la and a[i] == b[i]:
        i += 1
    if la == lb:
        if a[i + 1 :] == b[i + 1 :]:
            return True  # one substitution
        return i + 1 < la and a[i] == b[i + 1] and a[i + 1] == b[i] and a[i + 2 :] == b[i + 2 :]
    return a[i:] == b[i + 1 :]  # b has one extra character at i


class TypoIndex:
    """Words of the names, bucketed to find those one edit away without comparing them all.

    A word one edit away is at most one letter longer or shorter, and keeps the first letter
    unless the edit is there; then its second letter is the typed word's first or second.
    Buckets by (length, first letter) and (length, second letter) leave a few dozen checks per
    typed word, and cost next to nothing to build. Shared by the questions.
    """

    def __init__(self, words: Iterable[str]) -> None:
        """Index the words long enough for typo tolerance."""
        self.words = frozenset(w for w in words if len(w) >= FUZZY_MIN - 1)
        """Every indexed word."""
        self._first: dict[tuple[int, str], list[str]] = {}
        self._second: dict[tuple[int, str], list[str]] = {}
        for word in sorted(self.words):
            self._first.setdefault((len(word), word[0]), []).append(word)
            self._second.setdefault((len(word), word[1]), []).append(word)

    def neighbours(self, word: str) -> list[str]:
        """Indexed words one edit away from ``word`` (not ``word`` itself), sorted."""
        if len(word) < 2:  # noqa: PLR2004 - the buckets need two letters
            return []
        found: set[str] = set()
        for size in (len(word) - 1, len(word), len(word) + 1):
            for bucket in (
                self._first.get((size, word[0]), ()),  # the edit is not on the first letter
                self._first.get((size, word[1]), ()),  # a letter inserted before the first
                self._second.get((size, word[0]), ()),  # first letter dropped or swapped
                self._second.get((size, word[1]), ()),  # first letter replaced
            ):
                found.update(bucket)
        found.discard(word)
        return sorted(w for w in found if within_one_edit(word, w))


def name_words(candidates: Iterable[Candidate]) -> set[str]:
    """The words of the candidates' keys."""
    return {w for c in candidates for w in fold(c.text).split(" ")}


def build_indexes(
    candidate_sets: Mapping[_K, Sequence[Candidate]],
) -> dict[_K, CompletionIndex]:
    """One index per set of candidates, sharing one typo index (cheaper to build)."""
    typos = TypoIndex(w for cs in candidate_sets.values() for w in name_words(cs))
    return {key: CompletionIndex(cs, typos=typos) for key, cs in candidate_sets.items()}


class CompletionIndex:
    """Candidates of one question, indexed for ranked, forgiving completion."""

    def __init__(self, candidates: Iterable[Candidate], *, typos: TypoIndex | None = None) -> None:
        """Index the candidates (the first of several with the same key is kept).

        Args:
            candidates: the names, canonical ones first.
            typos: a typo index covering these names' words (built here when not given).
        """
        seen: dict[str, int] = {}
        kept: list[Candidate] = []
        keys: list[str] = []
        for candidate in sorted(candidates, key=lambda c: _VIA_RANK[c.via]):
            key = fold(candidate.text)
            if key and key not in seen:
                seen[key] = len(kept)
                kept.append(candidate)
                keys.append(key)
        self.candidates: tuple[Candidate, ...] = tuple(kept)
        """Every candidate, deduplicated on its key."""
        self._keys = keys
        self._exact = seen
        self._compact: dict[str, int] = {}
        # Word starts inside names: "atopic dermatitis" -> "dermatitis" (the name's own start is
        # in _sorted); a query of several words matches from any word on.
        starts: list[tuple[str, int]] = []
        for i, key in enumerate(keys):
            self._compact.setdefault(key.replace(" ", ""), i)
            space = key.find(" ")
            while space >= 0:
                starts.append((key[space + 1 :], i))
                space = key.find(" ", space + 1)
        self._sorted = sorted(zip(keys, range(len(keys)), strict=True))
        self._starts = sorted(starts)
        self._typos = typos if typos is not None else TypoIndex(name_words(kept))
        self._numbered = [_DIGIT.search(key) is not None for key in keys]
        """Names with a number of their own take no typed strength after them ("aspirin 75")."""
        self._rank = [(_VIA_RANK[c.via], len(c.text), c.text.casefold()) for c in self.candidates]

    def __len__(self) -> int:
        """The number of candidates."""
        return len(self.candidates)

    def complete(self, text: str, limit: int = 8) -> tuple[Completion, ...]:
        """The best completions of ``text``, best first (empty when nothing matches)."""
        best: dict[str, tuple[tuple[int, int, int, int, str], Completion]] = {}
        for order, query in enumerate(_queries(text)):
            for i, kind in self._search(query.key, limit, numbered=not query.tail):
                candidate = self.candidates[i]
                completion = Completion(
                    candidate=candidate, kind=kind, text=candidate.text + query.tail
                )
                # the whole text matched ranks before the name with its strength set aside
                score = (TIERS[kind], order, *self._rank[i])
                out = fold(completion.text)
                if out not in best or score < best[out][0]:
                    best[out] = (score, completion)
        ranked = sorted(best.values(), key=lambda item: item[0])
        return tuple(completion for _, completion in ranked[:limit])

    def best(self, text: str) -> Completion | None:
        """The single best completion of ``text``."""
        found = self.complete(text, limit=1)
        return found[0] if found else None

    # --- tiers -----------------------------------------------------------------------------
    def _search(self, key: str, limit: int, *, numbered: bool) -> list[tuple[int, MatchKind]]:
        """Candidates matching ``key``, best first; ``numbered``: also names with a number."""
        hits: dict[int, MatchKind] = {}
        for tier in self._tiers(key):
            hits.update(
                (i, kind)
                for i, kind in tier
                if i not in hits and (numbered or not self._numbered[i])
            )
            if len(hits) >= limit:
                break
        if not hits:  # typos are only looked for when nothing matches as typed
            hits.update((i, "fuzzy") for i in self._fuzzy(key) if numbered or not self._numbered[i])
        ranked = sorted(hits.items(), key=lambda h: (TIERS[h[1]], *self._rank[h[0]]))
        return ranked[:limit]

    def _tiers(self, key: str, *, substring: bool = True) -> Iterator[list[tuple[int, MatchKind]]]:
        exact = self._exact.get(key)
        if exact is None:
            exact = self._compact.get(key.replace(" ", ""))
        yield [] if exact is None else [(exact, "exact")]
        yield [(i, "prefix") for i in self._prefixed(self._sorted, key)]
        yield [(i, "word") for i in self._prefixed(self._starts, key)]
        if substring and len(key) >= SUBSTRING_MIN:
            yield [(i, "substring") for i, k in enumerate(self._keys) if key in k]

    @staticmethod
    def _prefixed(table: list[tuple[str, int]], key: str) -> Iterator[int]:
        for pos in range(bisect.bisect_left(table, (key, -1)), len(table)):
            entry, i = table[pos]
            if not entry.startswith(key):
                return
            yield i

    def _fuzzy(self, key: str) -> Iterator[int]:
        """Names matching once one word of the query is corrected by one edit.

        A corrected query matches exactly, as a prefix or from a word on, never as a substring
        (a typo plus a substring strays too far from what was typed).
        """
        words = key.split(" ")
        for j, word in enumerate(words):
            if len(word) < FUZZY_MIN or (word in self._typos.words and j < len(words) - 1):
                continue
            for near in self._typos.neighbours(word):
                corrected = " ".join([*words[:j], near, *words[j + 1 :]])
                for tier in self._tiers(corrected, substring=False):
                    for i, _ in tier:
                        yield i
