"""The board and team benchmark at a tiny size, so it cannot rot: every opening speech is given, every
phase of the plan with independent phases completes. No time is asserted."""

from __future__ import annotations

from agentkit_app.engine import events as ev
from bench import board_team
from bench.common import format_table
from bench.paced_model import Pace

TINY = Pace(ttft_s=0.01, rate=500.0, tokens=10)


def test_speeches_and_phases_are_as_long_as_the_pace_says():
    experts, _ = board_team.make_experts(3)
    model = board_team.PacedDemoModel(TINY, board_team.independent_plan(experts))
    prompt = [
        {"role": "system", "content": "You are Expert 1, an expert."},
        {"role": "user", "content": "Topic: x"},
    ]

    assert len(model.reply_tokens(prompt, None, "board.speech")) == TINY.tokens
    assert len(model.reply_tokens(prompt, None, "team.phase")) == TINY.tokens


async def test_board_and_team_at_a_tiny_size():
    [sample] = await board_team.measure(3, TINY, repeat=1)

    board = sample.board.events
    assert isinstance(board[0], ev.BoardStarted)
    speeches = [e for e in board if isinstance(e, ev.ExpertSpeech)]
    assert [(s.expert_name, s.round) for s in speeches] == [(f"Expert {i}", 1) for i in (1, 2, 3)]
    assert any(isinstance(e, ev.RoundSummary) for e in board)
    assert isinstance(board[-1], ev.BoardConcluded)

    team = sample.team.events
    formed = next(e for e in team if isinstance(e, ev.TeamFormed))
    assert [p["depends_on"] for p in formed.plan_phases] == [[], [], ["p1", "p2"]]
    assert {e.phase_id for e in team if isinstance(e, ev.PhaseStarted)} == {"p1", "p2", "p3"}
    assert {e.phase_id for e in team if isinstance(e, ev.PhaseCompleted)} == {"p1", "p2", "p3"}
    assert not any(isinstance(e, ev.PhaseFailed | ev.Error) for e in team)
    assert isinstance(team[-1], ev.TeamDissolved) and team[-1].status == "completed"

    table = format_table("tiny", board_team.board_team_rows([sample], 3))
    assert "| board: opening round of 3 (ms) " in table
