"""needlewise benchmark: knowledge load/compile, per-assessment latency, memory soak, reload.

Usage (from the repository root; ``make bench`` runs it with the defaults)::

    .venv/bin/python bench/run.py [--cases N] [--soak N] [--seed S] [--rounds R]
                                  [--reload N] [--profile]

What it measures (docs/performance.md explains the numbers):

1. ``load_knowledge`` (YAML + validation) and ``compile_knowledge`` of the bundled knowledge,
   median of 5 runs each (after one warm-up); also durable's ruleset registration.
2. Per-assessment latency over ``--cases`` varied, deterministic cases generated from the
   vocabulary and the terminology (``random.Random(seed)``), each timed ``--rounds`` times:
   (a) ``Assessor.assess(case, verify=True)``, the product path;
   (b) ``Assessor.assess(case, verify=False)``;
   (c) ``RuleEngine.run`` alone, with the facts prebuilt;
   (d) a bare durable_rules run of the same compiled ruleset (no guards, no recording), the
       floor that durable itself sets;
   plus CPU-time medians (a check against a busy machine), firings and facts per assessment,
   the bundled example cases as a reference, and a breakdown of the product path by stage.
3. RSS across a soak of ``--soak`` assessments with one assessor, and across ``--reload``
   compile + assess + close cycles.
4. ``--profile``: cProfile of 300 assessments (top 20 by own time and by cumulative time), and
   of the same cases on bare durable (top 15).

Every figure is printed as it is measured; a Markdown summary table comes last.

bench/ may import durable directly; engine/ keeps it behind engine/runtime.py.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import cProfile
import datetime as dt
import gc
import json
import math
import os
import platform
import pstats
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python bench/run.py` puts bench/, not the root, on sys.path
    sys.path.insert(0, str(ROOT))

import durable_rules_engine  # noqa: E402
import yaml  # noqa: E402
from durable import engine as durable_engine  # noqa: E402

from engine import (  # noqa: E402
    Assessor,
    Case,
    CompiledKnowledge,
    Knowledge,
    case_from_data,
    compile_knowledge,
    load_case,
    load_knowledge,
)
from engine.assessment import _result, cross_check  # noqa: E402
from engine.compile import PHASE_KIND  # noqa: E402
from engine.conclude import conclude  # noqa: E402
from engine.facts import build_facts  # noqa: E402
from engine.model import FactSpec, FieldSpec  # noqa: E402
from engine.runtime import RuleEngine  # noqa: E402
from knowledge import DEFAULT_KNOWLEDGE  # noqa: E402

TODAY = dt.date(2026, 11, 28)
TARGET_COMPILE_MS = 200.0
TARGET_MEDIAN_MS = 1.0
TARGET_P95_MS = 3.0
UNRECOGNISED = (
    "Frobnicol",
    "mystery cream",
    "zz-unknown tablets",
    "herbal tea blend",
    "Glowzapril 20 mg",
    "something from the market",
    "unknown",
)
SITE_TYPOS = ("left flank", "behind the ear", "somewhere on the face?")
DEVICE_MODELS = ("SkinPen", "Dermapen 4", "generic pen", "Dr. Pen A6")
MS = 1e-6  # nanoseconds -> milliseconds


# --- the case generator ---------------------------------------------------------------------


class CaseGenerator:
    """Random but valid case data, drawn from a knowledge's vocabulary and terminology.

    Each case first draws a profile. A quarter are routine clients: every question answered,
    mostly empty lists, every name recognised, yes/no questions rarely "yes", depths 0.25-1 mm.
    Another quarter answer every question with "busy" lists (0-4 entries). The other half answer
    each question with a probability between 0.6 and 0.97 (a missing key is UNANSWERED), and
    whole lists or groups are sometimes unanswered or explicitly null. Follow-up questions
    (``ask_when``) are answered when asked, and rarely when not (an inconsistent intake).
    Term fields take canonical ids, synonyms and brand names of the terminology's terms of the
    field's kinds (sometimes with a strength, a dose form or other capitalisation) and, outside
    routine clients, 10% names it does not know; sites are ids, synonyms and a few unknown
    places; 1-4 planned areas (zone ids or synonyms) with depths in the allowed range; day
    counts from short, medium and long bands, or null ("never").
    """

    def __init__(self, knowledge: Knowledge, seed: int) -> None:
        self.k = knowledge
        self.rng = random.Random(seed)
        self.names: dict[str, list[str]] = {}
        for term in knowledge.terminology.terms.values():
            spoken = [term.id.replace("_", " "), *term.synonyms, *term.brands]
            self.names.setdefault(term.kind, []).extend(spoken)
        for names in self.names.values():
            names.sort()  # terminology order is stable, but sorting makes it explicit
        self.site_names = sorted(knowledge.sites)
        self.zone_names: dict[str, list[str]] = {}
        for zone in knowledge.zones:
            term = knowledge.terminology.terms.get(zone)
            self.zone_names[zone] = [zone, *(term.synonyms if term is not None else [])]
        self.rate = 1.0  # chance that a question is answered, per case
        self.counts: tuple[int, ...] = ()  # weights of 0..4 entries in a list, per case
        self.clean = False  # a routine client: few entries, all recognised, modest depths

    def case(self) -> dict[str, Any]:
        """One case as it would arrive from the intake (a plain dict, as from YAML)."""
        rng = self.rng
        profile = rng.random()
        self.clean = profile < 0.25
        self.rate = 1.0 if profile < 0.5 else rng.uniform(0.6, 0.97)
        if self.clean:
            self.counts = (80, 18, 2, 0, 0)
        else:
            self.counts = (60, 30, 8, 2, 0) if rng.random() < 0.4 else (20, 35, 25, 12, 8)
        data: dict[str, Any] = {"consultation_date": TODAY.isoformat(), "client": {}, "plan": {}}
        for spec in self.k.vocabulary.specs.values():
            root, _, rest = spec.source.partition(".")
            target = data[root]
            if spec.key_field is not None:
                target[rest] = self.areas(spec)
            elif spec.entries:
                self.entry_list(target, rest, spec)
            elif spec.scalar_field is not None:
                self.scalar(target, rest, spec)
            elif rest:
                self.group(target, rest, spec)
            else:
                target.update(self.fields(spec.fields))
        return data

    # -- the parts ------------------------------------------------------------------------
    def areas(self, spec: FactSpec) -> list[dict[str, Any]]:
        key = spec.key_field or "zone"
        zones = self.rng.sample(sorted(self.k.zones), self.rng.randint(1, 4))
        out = []
        for zone in zones:
            area: dict[str, Any] = {key: self.rng.choice(self.zone_names[zone])}
            others = {n: s for n, s in spec.fields.items() if n != key}
            for name, fspec in others.items():
                # Depth is nearly always given; the per-area indication mostly defaults.
                chance = max(self.rate, 0.9) if fspec.type in {"integer", "number"} else 0.25
                if self.rng.random() < chance:
                    area[name] = self.value(fspec, nullable=False)
            out.append(area)
        return out

    def entry_list(self, target: dict[str, Any], key: str, spec: FactSpec) -> None:
        draw = self.rng.random()
        if draw > self.rate + 0.05:
            return  # unanswered list
        if draw < 0.06:
            target[key] = None  # answered: none
            return
        count = self.rng.choices((0, 1, 2, 3, 4), weights=self.counts)[0]
        if spec.scalar_field is not None:
            fspec = spec.fields[spec.scalar_field]
            target[key] = [self.term(fspec) for _ in range(count)]
            return
        name_field = next(n for n, f in spec.fields.items() if f.type == "term")
        entries = []
        for _ in range(count):
            entry = {name_field: self.term(spec.fields[name_field])}
            others = {n: f for n, f in spec.fields.items() if n != name_field}
            entry.update(self.fields(others))
            entries.append(entry)
        target[key] = entries

    def scalar(self, target: dict[str, Any], key: str, spec: FactSpec) -> None:
        draw = self.rng.random()
        if draw > self.rate:
            return  # unanswered
        fspec = spec.fields[spec.scalar_field or ""]
        target[key] = None if draw < 0.2 else self.term(fspec)

    def group(self, target: dict[str, Any], key: str, spec: FactSpec) -> None:
        draw = self.rng.random()
        if draw > self.rate + 0.05:
            return  # the whole group unanswered
        if draw < 0.05:
            target[key] = None  # answered: none of it
            return
        target[key] = self.fields(spec.fields)

    def fields(self, specs: Mapping[str, FieldSpec]) -> dict[str, Any]:
        rng, rate = self.rng, self.rate
        out = {n: self.value(f) for n, f in specs.items() if not f.ask_when and rng.random() < rate}
        for name, fspec in specs.items():
            if fspec.ask_when:
                # A follow-up question is answered when it is asked; rarely when it is not.
                asked = all(_holds(out.get(f), test) for f, test in fspec.ask_when.items())
                if rng.random() < (rate if asked else 0.03):
                    out[name] = self.value(fspec)
        return out

    # -- values ---------------------------------------------------------------------------
    def value(self, spec: FieldSpec, *, nullable: bool = True) -> Any:  # noqa: ANN401
        rng = self.rng
        kind = spec.type
        if kind == "boolean":
            if spec.has_default:
                return spec.default if rng.random() < 0.85 else not spec.default
            return rng.random() < (0.02 if self.clean else 0.12)
        if kind == "integer" and "days" in spec.unit:
            return None if nullable and rng.random() < 0.35 else self.days(spec)
        if kind in {"integer", "number"}:
            return self.number(spec)
        if kind == "enum":
            values = list(spec.values or [])
            aliases = [a for a, v in spec.aliases.items() if v in values]
            if aliases and rng.random() < 0.3:
                return rng.choice(aliases)
            return rng.choice(values)
        if kind == "term":
            return self.term(spec)
        if kind == "site":
            return self.site()
        if kind == "date":
            return (TODAY - dt.timedelta(days=rng.randint(0, 400))).isoformat()
        return rng.choice(DEVICE_MODELS)

    def days(self, spec: FieldSpec) -> int:
        low = int(spec.min if spec.min is not None else 0)
        high = int(spec.max if spec.max is not None else 3650)
        band = self.rng.choice(((0, 14), (0, 60), (14, 400), (0, 3650)))
        return self.rng.randint(max(low, band[0]), min(high, band[1]))

    def number(self, spec: FieldSpec) -> int | float:
        if spec.type == "integer" and spec.aliases and self.rng.random() < 0.3:
            return self.rng.choice(list(spec.aliases))  # type: ignore[return-value]
        low = spec.min if spec.min is not None else 0.0
        high = spec.max if spec.max is not None else low + 100
        if spec.type == "integer":
            if "age" in spec.question.lower() or spec.unit == "years":
                return self.rng.randint(max(int(low), 16), min(int(high), 80))
            return self.rng.randint(int(low), int(high))
        # Depths in mm: mostly the common range, sometimes the whole allowed one.
        if self.clean:
            low, high = max(low, 0.25), min(high, 1.0)
        top = high if self.rng.random() < 0.2 else min(high, 2.5)
        return round(self.rng.uniform(low, top) / 0.05) * 0.05

    def term(self, spec: FieldSpec) -> str:
        rng = self.rng
        if not self.clean and rng.random() < 0.1:
            return rng.choice(UNRECOGNISED)
        kind = rng.choice(list(spec.terms))
        name = rng.choice(self.names.get(kind) or list(UNRECOGNISED))
        if kind == "medication" and rng.random() < 0.15:
            name = f"{name} {rng.choice(('10 mg', '0.05% cream', '81mg tablets', '2.5 mg bd'))}"
        elif rng.random() < 0.1:
            name = name.upper() if rng.random() < 0.5 else name.title()
        return name

    def site(self) -> str:
        rng = self.rng
        draw = rng.random()
        if draw < 0.05 and not self.clean:
            return rng.choice(SITE_TYPOS)
        site = rng.choice(self.site_names)
        term = self.k.terminology.terms.get(site)
        if draw < 0.4 and term is not None and term.synonyms:
            return rng.choice(term.synonyms)
        return site


def _holds(value: object, test: object) -> bool:
    """An ``ask_when`` test on an answer: a value, or ``{in: [...]}`` / ``{not_in: [...]}``."""
    if value is None:
        return False
    if isinstance(test, Mapping):
        if "not_in" in test:
            return value not in test["not_in"]
        if "in" in test:
            return value in test["in"]
        return False
    return value == test


def generate_cases(
    knowledge: Knowledge, count: int, seed: int
) -> list[tuple[dict[str, Any], Case]]:
    """``count`` generated cases, each validated by case_from_data (failing is a generator bug)."""
    gen = CaseGenerator(knowledge, seed)
    out = []
    for i in range(count):
        data = gen.case()
        try:
            case = case_from_data(knowledge, data, file=f"<generated {i}>", today=TODAY)
        except Exception as exc:
            msg = f"generated case {i} (seed {seed}) is invalid: {exc}\n{json.dumps(data)}"
            raise SystemExit(msg) from exc
        out.append((data, case))
    return out


# --- the bare durable baseline --------------------------------------------------------------


class BareHost(durable_engine.Host):
    """A durable host without timer threads whose actions come from a dict."""

    def __init__(self, actions: Mapping[str, Callable[[Any], None]]) -> None:
        self._bare_actions = actions
        super().__init__()

    def _run(self) -> None:
        """Start no timer threads."""

    def get_action(self, action_name: str) -> Callable[[Any], None]:
        return self._bare_actions[action_name]


class BareDurable:
    """The compiled ruleset on plain durable: assert, drain, gate, drain, delete. Nothing else.

    Each action does only what durable needs to reach the same firings: compute the derived
    facts (engine.conclude.conclude) and ``c.assert_fact`` them under id = fid, so a fact derived
    twice is dropped by durable itself. No recording, no validation, no post-processing.
    """

    def __init__(self, compiled: CompiledKnowledge, name: str = "bare") -> None:
        rules = compiled.knowledge.rule_index
        self.fired = 0
        ignored = (
            durable_engine.MessageNotHandledException,
            durable_engine.MessageObservedException,
        )

        def make(rule_id: str) -> Callable[[Any], None]:
            rule = rules[rule_id]

            def action(c: Any) -> None:  # noqa: ANN401 - durable's closure
                self.fired += 1
                for fact in conclude(rule, c._m):  # noqa: SLF001 - durable's bindings
                    fact["id"] = fact["fid"]
                    with contextlib.suppress(*ignored):  # nothing consumes it / already derived
                        c.assert_fact(fact)

            return action

        definition = copy.deepcopy(dict(compiled.definition))  # durable deletes every "run"
        self.host = BareHost({rule_id: make(rule_id) for rule_id in definition})
        self.host.register_rulesets({name: definition})
        self.ruleset = self.host.get_ruleset(name)
        self.handle = self.ruleset._handle  # noqa: SLF001
        self.phases = compiled.phases
        self.errors: list[object] = []
        self._sid = 0

    def _complete(self, error: object, _state: object) -> None:
        if error is not None:
            self.errors.append(error)

    def run(self, facts: Sequence[Mapping[str, Any]]) -> int:
        """Run one session over the input facts; return how many actions fired."""
        self._sid += 1
        sid = str(self._sid)
        before = self.fired
        payload = [{**f, "id": f["fid"], "sid": sid} for f in facts]
        _, offset = durable_rules_engine.assert_facts(self.handle, json.dumps(payload))
        self.ruleset.do_actions(offset, self._complete)
        for k in range(1, self.phases + 1):
            gate = {"kind": PHASE_KIND, "n": k, "id": f"{PHASE_KIND}:{k}", "sid": sid}
            _, offset = durable_rules_engine.assert_fact(self.handle, json.dumps(gate))
            self.ruleset.do_actions(offset, self._complete)
        durable_rules_engine.delete_state(self.handle, sid)
        return self.fired - before

    def close(self) -> None:
        durable_rules_engine.delete_ruleset(self.handle)


# --- helpers --------------------------------------------------------------------------------


def rss_mb() -> float:
    """Resident set size from /proc/self/statm, in MB."""
    with Path("/proc/self/statm").open() as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def p95(values: Sequence[float]) -> float:
    """Nearest-rank 95th percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def cpu_idle(seconds: float = 1.0) -> float | None:
    """Share of all CPUs' time spent idle over ``seconds`` (from /proc/stat), 0..1."""

    def sample() -> tuple[int, int]:
        with Path("/proc/stat").open() as f:
            values = [int(v) for v in f.readline().split()[1:]]
        return sum(values), values[3] + values[4]  # idle + iowait

    try:
        total1, idle1 = sample()
        time.sleep(seconds)
        total2, idle2 = sample()
    except (OSError, ValueError, IndexError):
        return None
    return (idle2 - idle1) / max(total2 - total1, 1)


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter_ns()
    fn()
    return (time.perf_counter_ns() - start) * MS


def median_of(fn: Callable[[], object], runs: int = 5) -> float:
    fn()  # warm-up (imports, caches)
    return statistics.median(timed(fn) for _ in range(runs))


def verdict(value: float, target: float) -> str:
    return "met" if value <= target else "NOT met"


def machine() -> dict[str, str]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    git = ["git", "-C", str(ROOT)]
    try:
        commit = subprocess.run(  # noqa: S603 - fixed arguments, git from PATH like make
            [*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
        ).stdout.strip()
        # Changes to the engine or the knowledge count; the bench and its docs do not.
        status = [*git, "status", "--porcelain", "--untracked-files=no", "--", ".", ":!bench"]
        dirty = subprocess.run(  # noqa: S603
            [*status, ":!docs"], capture_output=True, text=True, check=False
        ).stdout.strip()
    except OSError:
        commit, dirty = "", ""
    if not commit:  # not a git checkout, e.g. a `git archive` export of one commit
        exported = os.environ.get("BENCH_COMMIT")
        commit = f"{exported} (exported tree)" if exported else "unknown (no git checkout)"
    return {
        "cpus": str(os.cpu_count()),
        "cpu": model,
        "python": platform.python_version(),
        "commit": commit + (" (+ uncommitted engine/knowledge changes)" if dirty else ""),
        "durable": durable_version(),
    }


def durable_version() -> str:
    from importlib import metadata  # noqa: PLC0415

    try:
        return metadata.version("durable-rules")
    except metadata.PackageNotFoundError:
        return "unknown"


@dataclass
class Latency:
    """Wall-clock samples (the figures) and CPU-time samples (a check against a busy machine)."""

    label: str
    samples: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def p95(self) -> float:
        return p95(self.samples)

    @property
    def cpu_median(self) -> float:
        return statistics.median(self.cpu)


# --- the sections ---------------------------------------------------------------------------


def section_load(root: Path) -> tuple[Knowledge, CompiledKnowledge, dict[str, float]]:
    print("== 1. knowledge load and compile (median of 5, after one warm-up) ==")
    knowledge = load_knowledge(root)
    load_ms = median_of(lambda: load_knowledge(root))
    compile_ms = median_of(lambda: compile_knowledge(knowledge))
    compiled = compile_knowledge(knowledge)

    def register() -> None:
        RuleEngine(
            compiled.definition,
            lambda _r, _b: [],
            phases=compiled.phases,
            numeric_fields=compiled.numeric_fields,
        ).close()

    register_ms = median_of(register)
    print(f"knowledge: {root} ({knowledge.name} {knowledge.version}, hash {knowledge.hash[:12]})")
    print(
        f"rules: {len(knowledge.rules)} compiled to {len(compiled.definition)} durable rules, "
        f"{compiled.phases} phase gate(s), {len(knowledge.checks)} consistency checks, "
        f"{len(knowledge.terminology.terms)} terms"
    )
    print(f"load (YAML + validation)        {load_ms:8.1f} ms")
    print(
        f"compile (-> durable definition) {compile_ms:8.1f} ms   target <= "
        f"{TARGET_COMPILE_MS:.0f} ms: {verdict(compile_ms, TARGET_COMPILE_MS)}"
    )
    print(f"register (durable create_ruleset + guards) {register_ms:8.1f} ms")
    print()
    return knowledge, compiled, {"load": load_ms, "compile": compile_ms, "register": register_ms}


@dataclass
class Prepared:
    case: Case
    facts: list[dict[str, Any]]
    firings: int
    inputs: int
    derived: int


def prepare(assessor: Assessor, cases: Sequence[tuple[dict[str, Any], Case]]) -> list[Prepared]:
    """Assess every case once (warm-up and correctness) and prebuild its engine facts."""
    knowledge = assessor.knowledge
    out = []
    failures: list[str] = []
    decisions: dict[str, int] = {}
    by_output: dict[str, int] = {}
    asked = 0
    for i, (_, case) in enumerate(cases):
        try:
            result = assessor.assess(case, verify=True)
        except Exception as exc:  # noqa: BLE001 - reported, then the case is left out
            failures.append(f"case {i}: {type(exc).__name__}: {exc}")
            continue
        facts = build_facts(knowledge, case)
        _, unanswer = assessor._inconsistencies(facts)  # noqa: SLF001 - the same facts as assess
        if unanswer:
            facts = build_facts(knowledge, case, unanswer)
        dicts = [f.engine_dict() for f in facts.facts]
        run = assessor.engine.run(dicts)
        derived = sum(1 for fid in run.facts if fid not in {f["fid"] for f in dicts})
        derived -= sum(1 for fact in run.facts.values() if fact.get("kind") == PHASE_KIND)
        out.append(Prepared(case, dicts, len(run.firings), len(dicts), derived))
        for firing in run.firings:
            output = type(knowledge.rule_index[firing.rule_id].output).__name__
            by_output[output] = by_output.get(output, 0) + 1
        decision = str(result.decision) + (" (provisional)" if result.provisional else "")
        decisions[decision] = decisions.get(decision, 0) + 1
        asked += bool(result.missing)
    unrecognised = sum(len(build_facts(knowledge, i.case).unrecognized) > 0 for i in out)
    print(
        f"{unrecognised} cases with unrecognised entries, {asked} with missing answers that "
        "matter (Assessment.missing)"
    )
    print("decisions: " + ", ".join(f"{d} {n}" for d, n in sorted(decisions.items())))
    total = sum(by_output.values()) or 1
    shares = sorted(by_output.items(), key=lambda kv: -kv[1])
    print(
        "firings by rule output: "
        + ", ".join(f"{name.removesuffix('Out').lower()} {n / total:.0%}" for name, n in shares)
    )
    if failures:
        print(f"!! {len(failures)} generated case(s) failed to assess; left out of the timings:")
        for line in failures[:10]:
            print(f"   {line}")
    return out


def bundled_cases(knowledge: Knowledge) -> list[Case]:
    """examples/*.yaml and the knowledge's own case tests (their ``case:``), as a reference."""
    cases = [
        load_case(knowledge, p, today=TODAY) for p in sorted((ROOT / "examples").glob("*.yaml"))
    ]
    for path in sorted((knowledge.root / "cases").glob("*.yaml")):
        data = yaml.safe_load(path.read_text())
        if isinstance(data, dict) and "case" in data:
            cases.append(case_from_data(knowledge, data["case"], file=str(path), today=TODAY))
    return cases


def section_bundled(assessor: Assessor, rounds: int) -> dict[str, float]:
    cases = bundled_cases(assessor.knowledge)
    firings = []
    for case in cases:
        assessor.assess(case)
        facts = build_facts(assessor.knowledge, case)
        firings.append(len(assessor.engine.run([f.engine_dict() for f in facts.facts]).firings))
    items = [Prepared(case, [], 0, 0, 0) for case in cases]
    lat = measure("bundled", items, rounds * 10, lambda i: assessor.assess(i.case))
    print(
        f"reference: the {len(cases)} bundled cases (examples/, knowledge cases/): (a) median "
        f"{lat.median:.3f} ms, p95 {lat.p95:.3f} ms, {statistics.median(firings):g} firings "
        f"(range {min(firings)}-{max(firings)})"
    )
    return {"median": lat.median, "p95": lat.p95, "firings": statistics.median(firings)}


def measure(
    label: str, items: Sequence[Prepared], rounds: int, fn: Callable[[Prepared], object]
) -> Latency:
    result = Latency(label)
    gc.collect()
    wall, cpu = time.perf_counter_ns, time.process_time_ns
    for _ in range(rounds):
        for item in items:
            start, start_cpu = wall(), cpu()
            fn(item)
            result.samples.append((wall() - start) * MS)
            result.cpu.append((cpu() - start_cpu) * MS)
    return result


def stage_breakdown(assessor: Assessor, items: Sequence[Prepared]) -> list[tuple[str, float]]:
    """Median ms per stage of Assessor.assess(verify=True), replayed step by step."""
    knowledge = assessor.knowledge
    stages: dict[str, list[float]] = {}
    current: dict[str, float] = {}  # this assessment's ms per stage (a stage may run twice)

    def clock(name: str, fn: Callable[[], Any]) -> Any:  # noqa: ANN401
        start = time.perf_counter_ns()
        value = fn()
        current[name] = current.get(name, 0.0) + (time.perf_counter_ns() - start) * MS
        return value

    for item in items:
        for name, ms in current.items():
            stages.setdefault(name, []).append(ms)
        current.clear()
        case = item.case
        facts = clock("build_facts", lambda case=case: build_facts(knowledge, case))
        found, unanswer = clock(
            "consistency checks (evaluator)",
            lambda facts=facts: assessor._inconsistencies(facts),  # noqa: SLF001
        )
        if unanswer:
            facts = clock(
                "build_facts",
                lambda case=case, unanswer=unanswer: build_facts(knowledge, case, unanswer),
            )
        dicts = clock("engine_dict", lambda facts=facts: [f.engine_dict() for f in facts.facts])
        run = clock("RuleEngine.run (durable)", lambda dicts=dicts: assessor.engine.run(dicts))
        evaluation = clock(
            "oracle evaluator run",
            lambda facts=facts: assessor.evaluator.run(facts.facts, facts.phantoms),
        )
        clock("cross_check", lambda run=run, ev=evaluation: cross_check(run.firings, ev))
        clock(
            "result (+ depth, missing, policy)",
            lambda c=case, f=facts, r=run, e=evaluation, i=found: _result(
                knowledge,
                c,
                f,
                r,
                e,
                i,
                care=assessor._care,  # noqa: SLF001 - as assess() does
            ),
        )
    for name, ms in current.items():
        stages.setdefault(name, []).append(ms)
    return [(name, statistics.median(values)) for name, values in stages.items()]


def section_latency(
    compiled: CompiledKnowledge, args: argparse.Namespace
) -> tuple[dict[str, Latency], dict[str, float]]:
    print(
        f"== 2. per-assessment latency: {args.cases} generated cases (seed {args.seed}), "
        f"{args.rounds} timed round(s) each after a warm-up =="
    )
    knowledge = compiled.knowledge
    start = time.perf_counter()
    cases = generate_cases(knowledge, args.cases, args.seed)
    gen_s = time.perf_counter() - start
    print(f"generated and validated {len(cases)} cases in {gen_s:.2f} s")
    assessor = Assessor(compiled)
    items = prepare(assessor, cases)
    bare = BareDurable(compiled)
    mismatched = 0
    for item in items:  # warm-up, and the bare run must fire what the product engine fires
        if bare.run(item.facts) != item.firings:
            mismatched += 1
    if bare.errors or mismatched:
        print(
            f"!! bare durable: {len(bare.errors)} error(s), {mismatched} firing-count mismatch(es)"
        )
    engine = assessor.engine
    modes = {
        "a": measure(
            "(a) Assessor.assess(verify=True)",
            items,
            args.rounds,
            lambda i: assessor.assess(i.case, verify=True),
        ),
        "b": measure(
            "(b) Assessor.assess(verify=False)",
            items,
            args.rounds,
            lambda i: assessor.assess(i.case, verify=False),
        ),
        "c": measure(
            "(c) RuleEngine.run, facts prebuilt", items, args.rounds, lambda i: engine.run(i.facts)
        ),
        "d": measure("(d) bare durable_rules run", items, args.rounds, lambda i: bare.run(i.facts)),
    }
    bare.close()
    firings = statistics.median(i.firings for i in items)
    inputs = statistics.median(i.inputs for i in items)
    derived = statistics.median(i.derived for i in items)
    print(f"{'mode':40} {'median ms':>10} {'p95 ms':>10} {'CPU median':>11}")
    for lat in modes.values():
        print(f"{lat.label:40} {lat.median:10.3f} {lat.p95:10.3f} {lat.cpu_median:11.3f}")
    ratio_a = modes["a"].median / modes["d"].median
    ratio_c = modes["c"].median / modes["d"].median
    print(f"ratio (a)/(d) median: {ratio_a:.1f}x   (c)/(d) median: {ratio_c:.1f}x")
    per_firing = statistics.median(
        d / i.firings
        for d, i in zip(modes["d"].samples, [*items] * args.rounds, strict=True)
        if i.firings
    )
    print(f"bare durable cost per firing (median over runs): {per_firing * 1000:.1f} us")
    print(
        f"per assessment (median): {firings:g} firings, {inputs:g} input facts, "
        f"{derived:g} derived facts (range of firings {min(i.firings for i in items)}"
        f"-{max(i.firings for i in items)})"
    )
    a = modes["a"]
    print(
        f"targets for (a): median <= {TARGET_MEDIAN_MS:g} ms: {verdict(a.median, TARGET_MEDIAN_MS)}"
        f" ({a.median:.3f}); p95 <= {TARGET_P95_MS:g} ms: {verdict(a.p95, TARGET_P95_MS)}"
        f" ({a.p95:.3f})"
    )
    try:
        bundled = section_bundled(assessor, args.rounds)
    except Exception as exc:  # noqa: BLE001 - a reference only; the case files may be mid-edit
        print(f"reference (bundled cases) unavailable: {type(exc).__name__}: {exc}")
        bundled = {}
    print()
    print("stage breakdown of (a), median ms per assessment:")
    try:
        stages = stage_breakdown(assessor, items)
    except Exception as exc:  # noqa: BLE001 - the engine's internals may have moved on
        print(f"  unavailable: {type(exc).__name__}: {exc}")
        stages = []
    for name, value in stages:
        print(f"  {name:36} {value:8.3f}")
    print()
    assessor.close()
    extra = {
        "firings": firings,
        "inputs": inputs,
        "derived": derived,
        "ratio_a": ratio_a,
        "ratio_c": ratio_c,
        "per_firing_us": per_firing * 1000,
        **{f"bundled_{k}": v for k, v in bundled.items()},
        "cases": len(items),
    }
    return modes, extra


def section_memory(compiled: CompiledKnowledge, args: argparse.Namespace) -> dict[str, float]:
    print(f"== 3. memory: soak of {args.soak} assessments, then {args.reload} reloads ==")
    knowledge = compiled.knowledge
    cases = [c for _, c in generate_cases(knowledge, 200, args.seed + 1)]
    assessor = Assessor(compiled)
    for case in cases:  # warm-up: caches, the registered ruleset, allocator pools
        assessor.assess(case)
    gc.collect()
    before = rss_mb()
    samples = [before]
    start = time.perf_counter()
    for n in range(1, args.soak + 1):
        assessor.assess(cases[n % len(cases)])
        if n % 1000 == 0:
            samples.append(rss_mb())
    soak_s = time.perf_counter() - start
    gc.collect()
    after = rss_mb()
    assessor.close()
    print("RSS MB every 1,000: " + " ".join(f"{s:.1f}" for s in samples))
    print(
        f"soak: {before:.1f} MB -> {after:.1f} MB, growth {after - before:+.2f} MB "
        f"({args.soak} assessments in {soak_s:.1f} s)"
    )
    case = cases[0]
    for _ in range(5):  # warm-up
        with_reload(knowledge, case)
    gc.collect()
    reload_before = rss_mb()
    start = time.perf_counter()
    for _ in range(args.reload):
        with_reload(knowledge, case)
    reload_s = time.perf_counter() - start
    gc.collect()
    reload_after = rss_mb()
    print(
        f"reload: {reload_before:.1f} MB -> {reload_after:.1f} MB, growth "
        f"{reload_after - reload_before:+.2f} MB ({args.reload} x compile + assess + close "
        f"in {reload_s:.1f} s, {reload_s / max(args.reload, 1) * 1000:.1f} ms each)"
    )
    print()
    return {
        "soak_before": before,
        "soak_after": after,
        "soak_s": soak_s,
        "reload_before": reload_before,
        "reload_after": reload_after,
        "reload_ms": reload_s / max(args.reload, 1) * 1000,
    }


def with_reload(knowledge: Knowledge, case: Case) -> None:
    assessor = Assessor(compile_knowledge(knowledge))
    assessor.assess(case)
    assessor.close()


def section_profile(compiled: CompiledKnowledge, seed: int) -> None:
    print("== 4. cProfile: 300 assessments, Assessor.assess(verify=True) ==")
    cases = [c for _, c in generate_cases(compiled.knowledge, 300, seed)]
    assessor = Assessor(compiled)
    for case in cases[:20]:
        assessor.assess(case)
    profiler = cProfile.Profile()
    profiler.enable()
    for case in cases:
        assessor.assess(case)
    profiler.disable()
    assessor.close()
    for order in ("tottime", "cumulative"):
        print(f"-- top 20 by {order} --")
        stats = pstats.Stats(profiler, stream=sys.stdout)
        stats.strip_dirs().sort_stats(order).print_stats(20)
    # The same cases on bare durable: what durable's Python binding costs per firing.
    facts = [[f.engine_dict() for f in build_facts(compiled.knowledge, c).facts] for c in cases]
    bare = BareDurable(compiled, name="bare_profile")
    for batch in facts[:20]:
        bare.run(batch)
    profiler = cProfile.Profile()
    profiler.enable()
    for batch in facts:
        bare.run(batch)
    profiler.disable()
    bare.close()
    print("-- bare durable_rules, the same 300 cases: top 15 by tottime --")
    stats = pstats.Stats(profiler, stream=sys.stdout)
    stats.strip_dirs().sort_stats("tottime").print_stats(15)


def summary(
    info: dict[str, str],
    load: dict[str, float],
    modes: dict[str, Latency],
    extra: dict[str, float],
    memory: dict[str, float] | None,
    args: argparse.Namespace,
) -> None:
    a = modes["a"]
    print("== summary (Markdown) ==")
    print()
    print(
        f"Machine: {info['cpus']} CPUs, {info['cpu']}; Python {info['python']}; "
        f"durable-rules {info['durable']}; commit {info['commit']}; "
        f"{int(extra['cases'])} cases, seed {args.seed}, {args.rounds} rounds."
    )
    print()
    print("| measure | median ms | p95 ms | target | met |")
    print("| --- | ---: | ---: | --- | --- |")
    print(f"| knowledge load (YAML + validation) | {load['load']:.1f} | | | |")
    print(
        f"| compile | {load['compile']:.1f} | | <= {TARGET_COMPILE_MS:.0f} ms | "
        f"{'yes' if load['compile'] <= TARGET_COMPILE_MS else 'no'} |"
    )
    print(f"| durable ruleset registration | {load['register']:.1f} | | | |")
    met_median = "yes" if a.median <= TARGET_MEDIAN_MS else "no"
    met_p95 = "yes" if a.p95 <= TARGET_P95_MS else "no"
    print(
        f"| {modes['a'].label} | {a.median:.3f} | {a.p95:.3f} | median <= {TARGET_MEDIAN_MS:g}, "
        f"p95 <= {TARGET_P95_MS:g} | median {met_median}, p95 {met_p95} |"
    )
    for key in ("b", "c", "d"):
        lat = modes[key]
        print(f"| {lat.label} | {lat.median:.3f} | {lat.p95:.3f} | | |")
    if "bundled_median" in extra:
        print(
            f"| (a) on the bundled example cases | {extra['bundled_median']:.3f} | "
            f"{extra['bundled_p95']:.3f} | | |"
        )
    print(f"| ratio (a)/(d), (c)/(d) | {extra['ratio_a']:.1f}x, {extra['ratio_c']:.1f}x | | | |")
    print(
        f"| firings / input facts / derived facts per assessment | {extra['firings']:g} / "
        f"{extra['inputs']:g} / {extra['derived']:g} | | | |"
    )
    if memory is not None:
        print(
            f"| RSS soak, {args.soak} assessments | {memory['soak_before']:.1f} -> "
            f"{memory['soak_after']:.1f} MB ({memory['soak_after'] - memory['soak_before']:+.2f})"
            " | | flat | |"
        )
        print(
            f"| RSS reload, {args.reload} x compile + assess + close | "
            f"{memory['reload_before']:.1f} -> {memory['reload_after']:.1f} MB "
            f"({memory['reload_after'] - memory['reload_before']:+.2f}) | | flat | |"
        )
    print()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--cases", type=int, default=400, help="generated cases (default 400)")
    parser.add_argument("--soak", type=int, default=10_000, help="soak assessments (10,000)")
    parser.add_argument("--seed", type=int, default=20261128, help="case generator seed")
    parser.add_argument("--rounds", type=int, default=3, help="timed passes over the cases (3)")
    parser.add_argument("--reload", type=int, default=200, help="reload cycles (default 200)")
    parser.add_argument("--profile", action="store_true", help="cProfile 300 assessments")
    parser.add_argument(
        "--knowledge", type=Path, default=DEFAULT_KNOWLEDGE, help="knowledge directory"
    )
    args = parser.parse_args(argv)
    if args.cases < 1 or args.rounds < 1:
        parser.error("--cases and --rounds must be at least 1")
    info = machine()
    print(
        f"needlewise bench: {info['cpus']} CPUs ({info['cpu']}), Python {info['python']}, "
        f"durable-rules {info['durable']}, commit {info['commit']}"
    )
    idle = cpu_idle()
    shown = "unknown" if idle is None else f"{idle:.0%}"
    print(f"load average at start: {loadavg()}; CPUs idle over the last second: {shown}")
    if idle is not None and idle < 0.8:
        print("!! other work is using the CPUs: wall-clock figures will be noisy (see CPU median)")
    print()
    started = time.perf_counter()
    _, compiled, load = section_load(args.knowledge)
    modes, extra = section_latency(compiled, args)
    memory = section_memory(compiled, args) if args.soak > 0 or args.reload > 0 else None
    if args.profile:
        section_profile(compiled, args.seed)
    summary(info, load, modes, extra, memory, args)
    idle = cpu_idle()
    shown = "unknown" if idle is None else f"{idle:.0%}"
    print(f"load average at end: {loadavg()}; CPUs idle over the last second: {shown}")
    print(f"total bench time {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
