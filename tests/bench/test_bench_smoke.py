"""Every benchmark at a tiny size, so none can rot: each completes, every token arrives once and in
order, nothing fails. No test here asserts a time."""

from __future__ import annotations

from bench import history, scale, streaming
from bench.common import format_table
from bench.paced_model import Pace, reply_text, token_numbers

TINY = Pace(ttft_s=0.05, rate=200.0, tokens=20)


def test_the_paced_model_numbers_its_tokens_in_order():
    assert token_numbers(reply_text(12)) == list(range(1, 13))


async def test_streaming_at_a_tiny_size():
    [result] = await streaming.compare([2], TINY)

    for figures in (result.agentkit, result.baseline):
        assert figures.errors == []
        assert figures.complete_in_order == 2
        assert len(figures.completion_over_ideal) == 2
    assert result.agentkit.backend is not None and result.agentkit.backend.peak_rss_bytes > 0
    table = format_table("2 clients", streaming.comparison_rows(result.agentkit, result.baseline))
    assert "| added time to first token p50 (ms) " in table


def test_history_at_a_tiny_size():
    timings = history.measure(messages=60, requests=3, warmup=1)

    assert len(timings.agentkit_ms) == len(timings.bare_ms) == 3
    assert len(timings.agentkit_ids) == history.PAGE
    assert timings.agentkit_ids == timings.bare_ids
    assert "| same messages returned " in format_table("history", history.history_rows(timings))


async def test_scale_at_a_tiny_size():
    local, shared = await scale.redis_against_in_process(2, TINY, rounds=2)
    alone, together = await scale.one_against_two(2, TINY)

    for figures in (local, shared):
        assert figures.errors == [] and figures.complete_in_order == figures.count == 4
    for figures in (alone.figures, together.figures):
        assert figures.errors == [] and figures.complete_in_order == figures.count == 2
    assert together.processes == 2 and together.tokens_per_s > 0
    assert "| tokens delivered a second " in format_table("2", scale.throughput_rows(together, alone))
    assert "| added time to first token p50 (ms) " in format_table("2", scale.redis_rows(shared, local))
