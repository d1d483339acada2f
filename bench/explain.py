"""Benchmark: time to explain one finding (HOW), a WHY-NOT, and the suggestions of a case.

Run: .venv/bin/python bench/explain.py   (target: one finding explained in <= 20 ms)
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path

from engine import Assessor, compile_knowledge, load_knowledge
from engine.casetest import load_case_test
from engine.explain import how_decision, how_finding, why_not
from engine.suggest import suggest
from knowledge import DEFAULT_KNOWLEDGE


def _time(label: str, fn: Callable[[], object], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    samples.sort()
    median = statistics.median(samples) * 1000
    p95 = samples[int(len(samples) * 0.95) - 1] * 1000
    print(f"{label:<44} median {median:7.2f} ms   p95 {p95:7.2f} ms   (n={repeat})")
    return median


def main() -> None:
    knowledge = load_knowledge(DEFAULT_KNOWLEDGE)
    assessor = Assessor(compile_knowledge(knowledge))
    cases = [
        load_case_test(knowledge, p).case
        for p in sorted(Path(DEFAULT_KNOWLEDGE / "cases").glob("*.yaml"))
    ]
    pairs = []
    for case in cases:
        trace = assessor.trace(case)
        pairs.extend((trace, f.code) for f in trace.assessment.findings)
    print(f"{len(cases)} cases, {len(pairs)} findings")
    index = iter(range(10**9))

    def one_how() -> None:
        trace, code = pairs[next(index) % len(pairs)]
        how_finding(knowledge, trace.assessment, code)

    def one_why_not() -> None:
        trace, _ = pairs[next(index) % len(pairs)]
        why_not(knowledge, trace.assessment, trace.evaluation, "PREGNANCY")

    def one_decision() -> None:
        trace, _ = pairs[next(index) % len(pairs)]
        how_decision(knowledge, trace.assessment)

    how = _time("HOW of one finding (assessment given)", one_how, 2000)
    _time("WHY NOT of one code (evaluation given)", one_why_not, 2000)
    _time("HOW of the decision", one_decision, 1000)
    _time(
        "SUGGEST for one case (each suggestion verified)",
        lambda: suggest(assessor, cases[next(index) % len(cases)]),
        60,
    )
    print(f"target: HOW of one finding <= 20 ms: {'met' if how <= 20 else 'NOT met'}")
    assessor.close()


if __name__ == "__main__":
    main()
