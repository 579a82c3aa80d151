"""The metrics a run, a refusal and a stopped command leave, counted once each (never per token)."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys

import pytest
from prometheus_client import REGISTRY

from agentkit_app.engine import events as ev
from agentkit_app.engine.llm.demo import DemoModel
from agentkit_app.engine.llm.scripted import Reply, ScriptedModel
from agentkit_app.service import metrics
from agentkit_app.service.chat import ChatService, TurnRequest
from agentkit_app.service.errors import QuotaExceeded
from agentkit_app.service.runtime import build_sandbox
from agentkit_app.settings import ROOT, Settings
from agentkit_app.store.models import QuotaPublic
from tests.service.test_quotas import member, with_access


def sample(name: str, **labels: str) -> float:
    """Return a metric sample's value now (0 when it was never set)."""
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def answered(service: ChatService, text: str) -> list[ev.Event]:
    session = await service.create_session("assistant")
    return [e async for e in service.run_turn(TurnRequest(session_id=session.session_id, content=text))]


async def settled(service: ChatService) -> None:
    """Wait until every run of the service has ended (a run's end is counted just after its last event)."""
    for _ in range(200):
        if not service.runs._runs:
            return
        await asyncio.sleep(0.01)


async def test_an_answered_chat_counts_its_run_tokens_tier_and_times_once(service_factory, caplog):
    service = service_factory(ScriptedModel(["owls hunt at night and sleep by day"]))
    before = {
        "runs": sample("agentkit_runs_total", kind="chat", outcome="answered"),
        "out": sample("agentkit_tokens_total", direction="out", model="scripted", tier="main"),
        "tier": sample("agentkit_answers_by_tier_total", kind="chat", tier="main"),
        "first": sample("agentkit_run_first_token_seconds_count", kind="chat"),
        "time": sample("agentkit_run_duration_seconds_count", kind="chat", outcome="answered"),
    }
    with caplog.at_level(logging.INFO):
        events = await answered(service, "tell me about owls")
        await settled(service)
    final = next(e for e in events if isinstance(e, ev.FinalAnswer))
    assert sample("agentkit_runs_total", kind="chat", outcome="answered") == before["runs"] + 1
    out = sample("agentkit_tokens_total", direction="out", model="scripted", tier="main")
    assert out == before["out"] + final.metadata["usage"]["completion_tokens"] == before["out"] + 8
    assert sample("agentkit_answers_by_tier_total", kind="chat", tier="main") == before["tier"] + 1
    assert sample("agentkit_run_first_token_seconds_count", kind="chat") == before["first"] + 1
    assert (
        sample("agentkit_run_duration_seconds_count", kind="chat", outcome="answered") == before["time"] + 1
    )
    assert sample("agentkit_runs_in_flight", kind="chat") == 0
    ended = next(r for r in caplog.records if r.getMessage() == "run ended")
    assert ended.__dict__["outcome"] == "answered" and ended.__dict__["completion_tokens"] == 8
    assert "owls" not in caplog.text, "no message text at INFO"


async def test_a_run_in_flight_is_counted_until_it_is_cancelled(service_factory):
    service = service_factory(ScriptedModel([Reply("slow words " * 50, delay=0.05)]))
    cancelled = sample("agentkit_runs_total", kind="chat", outcome="cancelled")
    session = await service.create_session("assistant")
    run = await service.start_turn(TurnRequest(session_id=session.session_id, content="go on"))
    await asyncio.sleep(0.1)
    assert sample("agentkit_runs_in_flight", kind="chat") >= 1
    assert await service.cancel(session.session_id) == 1
    await settled(service)
    assert run.done and sample("agentkit_runs_in_flight", kind="chat") == 0
    assert sample("agentkit_runs_total", kind="chat", outcome="cancelled") == cancelled + 1


async def test_a_failed_turn_and_a_board_meeting_count_under_their_outcome_and_kind(service_factory):
    errors = sample("agentkit_runs_total", kind="chat", outcome="error")
    failing = service_factory(ScriptedModel([Reply(error="the endpoint is down")]))
    events = await answered(failing, "hello there, what is new")
    await settled(failing)
    assert any(isinstance(e, ev.Error) for e in events)
    assert sample("agentkit_runs_total", kind="chat", outcome="error") == errors + 1

    boards = sample("agentkit_runs_total", kind="board", outcome="answered")
    board = service_factory(DemoModel())
    events = await answered(board, "@board rounds=1 should we adopt a four-day week?")
    await settled(board)
    assert any(isinstance(e, ev.FinalAnswer) for e in events)
    assert sample("agentkit_runs_total", kind="board", outcome="answered") == boards + 1


async def test_a_quota_refusal_is_counted_by_quota_type_and_period(service_factory):
    service = service_factory(ScriptedModel(["fine", "fine"]))
    user = await member(with_access(service), [QuotaPublic(quota_type="requests", period="day", limit=1)])
    session = await service.create_session("assistant", principal=user)
    refusals = sample("agentkit_quota_refusals_total", quota_type="requests", period="day")
    first = TurnRequest(session_id=session.session_id, content="one", principal=user)
    assert any(isinstance(e, ev.FinalAnswer) for e in [e async for e in service.run_turn(first)])
    with pytest.raises(QuotaExceeded):
        await service.start_turn(TurnRequest(session_id=session.session_id, content="two", principal=user))
    assert sample("agentkit_quota_refusals_total", quota_type="requests", period="day") == refusals + 1


def test_model_names_beyond_the_limit_count_as_other(monkeypatch):
    monkeypatch.setattr(metrics, "_models", set())
    names = [metrics.model_label(f"model-{i}") for i in range(metrics.MAX_MODEL_LABELS + 5)]
    assert names[: metrics.MAX_MODEL_LABELS] == [f"model-{i}" for i in range(metrics.MAX_MODEL_LABELS)]
    assert set(names[metrics.MAX_MODEL_LABELS :]) == {"other"}
    assert metrics.model_label("model-0") == "model-0" and metrics.model_label("x" * 500) == "other"


async def test_the_deployments_sandbox_counts_the_commands_it_stops(tmp_path):
    sandbox = build_sandbox(Settings())
    if sandbox is None:
        pytest.skip("no sandbox can start here (bubblewrap missing)")
    before = sample("agentkit_sandbox_kills_total", reason="timeout")
    result = await sandbox.run("sleep 30", tmp_path / "scratch", 0.3)
    assert result.timed_out
    assert sample("agentkit_sandbox_kills_total", reason="timeout") == before + 1


def test_with_a_multiprocess_directory_a_scrape_reads_every_workers_figures(tmp_path):
    worker = (
        "from agentkit_app.service import metrics\n"
        "metrics.RUNS.labels('chat', 'answered').inc()\n"
        "metrics.RUNS_IN_FLIGHT.labels('team').inc()\n"
    )
    scrape = "from agentkit_app.service import metrics\nprint(metrics.exposition().decode())\n"
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    for _ in range(2):  # two worker processes, each with its own figures
        subprocess.run([sys.executable, "-c", worker], env=env, check=True, cwd=ROOT, timeout=60)
    text = subprocess.run(
        [sys.executable, "-c", scrape],
        env=env,
        check=True,
        cwd=ROOT,
        timeout=60,
        capture_output=True,
        text=True,
    ).stdout
    assert 'agentkit_runs_total{kind="chat",outcome="answered"} 2.0' in text
