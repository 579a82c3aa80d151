"""How much Timeline.apply costs per streamed token, as a ratio to appending the same strings to a list.

Run with ``python -m bench.bench_timeline``. It prints figures only; it asserts nothing about time.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from agentkit_app.engine import events as ev
from agentkit_app.ui.timeline import Timeline

TOKENS = 5000
REPEATS = 7


def _tokens(count: int) -> list[ev.Token]:
    """Return a stream of word-sized tokens, as a model streams an answer."""
    words = ["The", " quick", " brown", " fox", " jumps", " over", " the", " lazy", " dog", ".\n"]
    return [ev.Token(content=words[i % len(words)]) for i in range(count)]


def _baseline(tokens: list[ev.Token]) -> None:
    parts: list[str] = []
    for token in tokens:
        parts.append(token.content)


def _timeline(tokens: list[ev.Token]) -> None:
    timeline = Timeline()
    for token in tokens:
        timeline.apply(token, agent="assistant")


def _best_of(run: Callable[[list[ev.Token]], None], tokens: list[ev.Token]) -> float:
    """Return the fastest of several runs, in seconds (the least disturbed by the rest of the machine)."""
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        run(tokens)
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    """Time both loops over the same tokens and print the ratio."""
    tokens = _tokens(TOKENS)
    # Check that the loop being timed does the real work: one streaming answer holding every token.
    timeline = Timeline()
    for token in tokens:
        timeline.apply(token)
    expected = "".join(t.content for t in tokens)
    if [i.content for i in timeline.items] != [expected]:
        raise SystemExit("Timeline.apply did not build one answer from the tokens")
    baseline_s = _best_of(_baseline, tokens)
    timeline_s = _best_of(_timeline, tokens)
    per_token_us = timeline_s / TOKENS * 1e6
    print(f"tokens: {TOKENS}, best of {REPEATS} runs")
    print(f"baseline list.append: {baseline_s * 1e3:.3f} ms")
    print(f"Timeline.apply:       {timeline_s * 1e3:.3f} ms ({per_token_us:.2f} us per token)")
    print(f"ratio Timeline.apply / baseline: {timeline_s / baseline_s:.1f}x")


if __name__ == "__main__":
    main()
