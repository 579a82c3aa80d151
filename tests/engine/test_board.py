"""The board meeting engine driven by a scripted model: commands, rounds, consensus, conclusion, concurrency."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Callable

import pytest

from agentkit_app.engine import events as ev
from agentkit_app.engine.board import (
    MAX_ROUNDS,
    BoardCommandError,
    BoardOrchestrator,
    is_board_command,
    parse_board_command,
)
from agentkit_app.engine.board_conclusion import parse_conclusion
from agentkit_app.engine.experts import Expert
from agentkit_app.engine.interaction import Interaction
from agentkit_app.engine.llm.base import LLMError
from agentkit_app.engine.llm.scripted import Call, Reply, ScriptedModel

KNOWN = ["Strategist", "Risk Officer", "Customer Advocate", "Moderator"]
CHAIR = Expert(
    name="Chair", avatar="🎙", color="#111111", persona="a fair chair.", role="moderator", is_moderator=True
)
CONCLUSION = json.dumps(
    {"summary": "s", "decision_advice": "d", "consensus_points": ["c"], "dissent_points": ["x"]}
)
USER_LINE = "User (the person who convened the board)"


def expert(name: str) -> Expert:
    return Expert(name=name, avatar="🙂", color="#336699", persona=f"the {name.lower()}.")


def speaker(call: Call) -> str:
    found = re.match(r"You are ([^,]+),", call.messages[0]["content"])
    return found.group(1) if found else ""


def round_of(call: Call) -> int:
    found = re.search(r"Round (\d+) of", call.messages[-1]["content"])
    return int(found.group(1)) if found else 0


def board_script(
    speech: Callable[[str, int], Reply] = lambda name, round_no: Reply(f"{name} says {round_no}"),
    summary: Callable[[int], str] = lambda round_no: f"round {round_no} done\nCONSENSUS: no",
    conclusion: str = CONCLUSION,
) -> ScriptedModel:
    """A model that answers board prompts by purpose, so concurrent callers get the right reply."""

    def answer(call: Call) -> Reply | str:
        if call.purpose == "board.speech":
            return speech(speaker(call), round_of(call))
        if call.purpose == "board.summary":
            rounds = [int(r) for r in re.findall(r"\[Round (\d+)\]", call.messages[-1]["content"])]
            return summary(max(rounds, default=1))
        return conclusion

    return ScriptedModel(answer)


def meeting(model: ScriptedModel, names: list[str], rounds: int = 2, interaction: Interaction | None = None):
    return BoardOrchestrator(
        llm=model,
        experts=[expert(n) for n in names],
        moderator=CHAIR,
        topic="open a second shop",
        max_rounds=rounds,
        interaction=interaction or Interaction(),
        team_id="board-1",
    )


async def collect(orchestrator: BoardOrchestrator) -> list[ev.Event]:
    return [e async for e in orchestrator.run()]


def speech_calls(model: ScriptedModel, round_no: int) -> list[Call]:
    return [c for c in model.calls if c.purpose == "board.speech" and round_of(c) == round_no]


def opening_tasks() -> list[asyncio.Task]:
    return [t for t in asyncio.all_tasks() if t.get_name().startswith("board-opening-")]


def test_rounds_must_be_between_one_and_ten():
    assert MAX_ROUNDS == 10
    assert parse_board_command("@board rounds=10 pricing", 5, KNOWN).rounds == 10
    assert parse_board_command("@board rounds=1 pricing", 5, KNOWN).rounds == 1
    for bad in ("0", "11", "20", "-1"):
        with pytest.raises(BoardCommandError, match="rounds must be between 1 and 10"):
            parse_board_command(f"@board rounds={bad} pricing", 5, KNOWN)
    with pytest.raises(BoardCommandError, match="whole number"):
        parse_board_command("@board rounds=three pricing", 5, KNOWN)
    # a deployment default outside the range is kept within it
    assert parse_board_command("@board pricing", 20, KNOWN).rounds == 10


def test_expert_lists_accept_full_width_separators():
    cmd = parse_board_command(
        "@board:Strategist，Risk Officer、Customer Advocate rounds=2 要不要开第二家店", 5, KNOWN
    )
    assert cmd.expert_names == ["Strategist", "Risk Officer", "Customer Advocate"]
    assert cmd.rounds == 2 and cmd.topic == "要不要开第二家店"
    # a full-width colon and spaces after the separators work too
    assert is_board_command("@board：Strategist， Risk Officer 定价")
    cmd = parse_board_command("@board：Strategist， Risk Officer 定价", 5, KNOWN)
    assert cmd.expert_names == ["Strategist", "Risk Officer"] and cmd.topic == "定价"


async def test_each_round_every_expert_speaks_then_the_moderator_sums_up():
    model = board_script()
    events = await collect(meeting(model, ["Strategist", "Risk Officer"], rounds=3))
    assert isinstance(events[0], ev.BoardStarted) and events[0].max_rounds == 3
    assert [e.name for e in expert_list(events[0])] == ["Strategist", "Risk Officer", "Chair"]
    speeches = [(e.expert_name, e.round, e.content) for e in events if isinstance(e, ev.ExpertSpeech)]
    assert speeches == [
        (name, r, f"{name} says {r}") for r in (1, 2, 3) for name in ("Strategist", "Risk Officer")
    ]
    summaries = [e for e in events if isinstance(e, ev.RoundSummary)]
    assert [(s.round, s.content, s.consensus_reached) for s in summaries] == [
        (r, f"round {r} done", False) for r in (1, 2, 3)
    ]
    # every summary closes its round: it comes after that round's last speech
    for summary in summaries:
        last_speech = max(
            i for i, e in enumerate(events) if isinstance(e, ev.ExpertSpeech) and e.round == summary.round
        )
        assert events.index(summary) > last_speech
    assert events[-1] == ev.BoardConcluded(
        summary="s", decision_advice="d", total_rounds=3, consensus_points=["c"], dissent_points=["x"]
    )


def expert_list(started: ev.BoardStarted) -> list[Expert]:
    return [Expert(**e) for e in started.experts]


async def test_opening_statements_are_independent_and_later_rounds_read_the_discussion():
    model = board_script()
    await collect(meeting(model, ["Strategist", "Risk Officer", "Customer Advocate"], rounds=2))
    for call in speech_calls(model, 1):
        assert "(nobody has spoken yet)" in call.messages[-1]["content"]
    second_round = {speaker(c): c.messages[-1]["content"] for c in speech_calls(model, 2)}
    for prompt in second_round.values():
        assert "[Round 1] Strategist: Strategist says 1" in prompt
        assert "[Round 1] Chair: round 1 done" in prompt
    # round 2 is sequential: the last speaker has read the first two of this round
    assert "[Round 2] Risk Officer: Risk Officer says 2" in second_round["Customer Advocate"]
    assert "[Round 2] Strategist" not in second_round["Strategist"]


async def test_the_moderator_ends_the_meeting_early_on_consensus():
    model = board_script(
        summary=lambda r: f"round {r} done\n**CONSENSUS: yes**" if r == 2 else "going\nCONSENSUS: no"
    )
    events = await collect(meeting(model, ["Strategist", "Risk Officer"], rounds=5))
    summaries = [e for e in events if isinstance(e, ev.RoundSummary)]
    assert [(s.round, s.consensus_reached) for s in summaries] == [(1, False), (2, True)]
    assert summaries[-1].content == "round 2 done"  # the verdict line is not shown
    assert max(e.round for e in events if isinstance(e, ev.ExpertSpeech)) == 2
    concluded = events[-1]
    assert isinstance(concluded, ev.BoardConcluded) and concluded.total_rounds == 2


async def test_a_prose_conclusion_is_read_by_its_headings():
    prose = (
        "Thanks everyone.\n\n## Summary\nThe board weighed cost against reach.\n\n"
        "**Decision advice:** Run a one-month pilot.\n\n### Consensus\n- Validate first\n- Measure success\n\n"
        "Dissent:\n1. How fast to move\n2. The budget cap\n"
    )
    events = await collect(meeting(board_script(conclusion=prose), ["Strategist"], rounds=1))
    assert events[-1] == ev.BoardConcluded(
        summary="The board weighed cost against reach.",
        decision_advice="Run a one-month pilot.",
        total_rounds=1,
        consensus_points=["Validate first", "Measure success"],
        dissent_points=["How fast to move", "The budget cap"],
    )


async def test_a_garbage_conclusion_becomes_the_summary():
    garbage = 'Sure! {"summary": "unterminated ... I lost my train of thought'
    events = await collect(meeting(board_script(conclusion=garbage), ["Strategist"], rounds=1))
    assert events[-1] == ev.BoardConcluded(
        summary=garbage, decision_advice="", total_rounds=1, consensus_points=[], dissent_points=[]
    )


def test_conclusion_with_chinese_headings():
    text = "一、讨论总结\n大家讨论了成本与回报。\n二、决策建议：先做一个月试点\n【共识点】\n- 先验证再投入\n- 设定成功指标\n【分歧点】\n- 推进节奏\n"
    assert parse_conclusion(text, 2) == ev.BoardConcluded(
        summary="大家讨论了成本与回报。",
        decision_advice="先做一个月试点",
        total_rounds=2,
        consensus_points=["先验证再投入", "设定成功指标"],
        dissent_points=["推进节奏"],
    )


def test_conclusion_json_in_a_fence_with_loose_types():
    text = '```json\n{"summary": ["a", "b"], "decision_advice": 3, "consensus_points": "one", "dissent_points": null}\n```'
    assert parse_conclusion(text, 1) == ev.BoardConcluded(
        summary="a\nb", decision_advice="3", total_rounds=1, consensus_points=["one"], dissent_points=[]
    )


@pytest.mark.parametrize("text", ["", "   ", "{}", "[1, 2]", "## \n- \n**", "Summary", "null"])
def test_conclusion_parsing_never_crashes(text):
    concluded = parse_conclusion(text, 1)
    assert concluded.total_rounds == 1
    assert isinstance(concluded.summary, str) and isinstance(concluded.consensus_points, list)


async def test_interventions_before_and_during_the_opening_round_are_heard():
    interaction = Interaction()
    interaction.post("think about students")
    model = board_script(speech=lambda name, r: Reply(f"{name} says {r}", delay=0.01))
    events: list[ev.Event] = []
    async for event in meeting(
        model, ["Strategist", "Risk Officer"], rounds=2, interaction=interaction
    ).run():
        events.append(event)
        if isinstance(event, ev.ExpertSpeechChunk) and event.round == 1 and event.expert_name == "Strategist":
            if not any(isinstance(e, ev.ExpertSpeechChunk) for e in events[:-1]):
                interaction.post("and about rent")  # every opening statement is already being written
    interventions = [(events.index(e), e.content) for e in events if isinstance(e, ev.UserIntervention)]
    assert [c for _, c in interventions] == ["think about students", "and about rent"]
    # the message sent before the meeting is heard by every opening statement
    assert interventions[0][0] == 1
    for call in speech_calls(model, 1):
        assert f"{USER_LINE}: think about students" in call.messages[-1]["content"]
        assert "and about rent" not in call.messages[-1]["content"]
    # the one sent during the opening round is shown after it and heard by its summary and by round 2
    last_opening = max(i for i, e in enumerate(events) if isinstance(e, ev.ExpertSpeech) and e.round == 1)
    first_summary = next(i for i, e in enumerate(events) if isinstance(e, ev.RoundSummary))
    assert last_opening < interventions[1][0] < first_summary
    summary_call = next(c for c in model.calls if c.purpose == "board.summary")
    assert f"{USER_LINE}: and about rent" in summary_call.messages[-1]["content"]
    assert all("and about rent" in c.messages[-1]["content"] for c in speech_calls(model, 2))


async def test_an_intervention_in_a_later_round_is_heard_by_the_next_speaker():
    interaction = Interaction()
    model = board_script()
    events: list[ev.Event] = []
    async for event in meeting(
        model, ["Strategist", "Risk Officer"], rounds=2, interaction=interaction
    ).run():
        events.append(event)
        if isinstance(event, ev.ExpertSpeech) and (event.round, event.expert_name) == (2, "Strategist"):
            interaction.post("what about rent?")
    spoken = [(e.expert_name, e.round) if isinstance(e, ev.ExpertSpeech) else e.content for e in events
              if isinstance(e, ev.ExpertSpeech | ev.UserIntervention)]  # fmt: skip
    assert spoken[-3:] == [("Strategist", 2), "what about rent?", ("Risk Officer", 2)]
    second = {speaker(c): c.messages[-1]["content"] for c in speech_calls(model, 2)}
    assert "what about rent?" not in second["Strategist"] and "what about rent?" in second["Risk Officer"]


async def test_opening_statements_stream_in_expert_order_even_when_later_ones_finish_first():
    # the first expert is the slowest writer, the last one the fastest
    delays = {"Strategist": 0.04, "Risk Officer": 0.02, "Customer Advocate": 0.0}
    model = board_script(
        speech=lambda name, r: Reply(
            f"{name} opens with three words" if r == 1 else "later", delay=delays[name] if r == 1 else 0
        )
    )
    events = await collect(meeting(model, list(delays), rounds=1))
    opening = [e for e in events if isinstance(e, ev.ExpertSpeechChunk | ev.ExpertSpeech) and e.round == 1]
    order = [e.expert_name for e in opening]
    # each expert's chunks then speech, one expert after another, never interleaved
    assert order == sorted(order, key=list(delays).index)
    assert [e.expert_name for e in opening if isinstance(e, ev.ExpertSpeech)] == list(delays)
    for name in delays:
        chunks = "".join(
            e.content for e in opening if isinstance(e, ev.ExpertSpeechChunk) and e.expert_name == name
        )
        speech = next(e for e in opening if isinstance(e, ev.ExpertSpeech) and e.expert_name == name)
        assert chunks == speech.content == f"{name} opens with three words"
        assert isinstance(opening[opening.index(speech) - 1], ev.ExpertSpeechChunk)


async def test_the_opening_round_runs_concurrently_against_a_sequential_round():
    names = ["Strategist", "Risk Officer", "Customer Advocate", "Investor"]
    delay = 0.3
    model = board_script(
        speech=lambda name, r: Reply(f"{name}-{r}", delay=delay)
    )  # one word: one delay per speech
    marks: dict[str, float] = {}
    async for event in meeting(model, names, rounds=2).run():
        now = time.perf_counter()
        if isinstance(event, ev.BoardStarted):
            marks["start"] = now
        elif isinstance(event, ev.ExpertSpeech):
            marks[f"speech-{event.round}"] = now
        elif isinstance(event, ev.RoundSummary) and event.round == 1:
            marks["summary-1"] = now
    opening = marks["speech-1"] - marks["start"]
    sequential = marks["speech-2"] - marks["summary-1"]
    assert opening < 0.6 * sequential
    assert opening < 0.6 * len(names) * delay


async def test_a_failing_opening_statement_raises_and_stops_the_others():
    def speech(name: str, r: int) -> Reply:
        return Reply(error="endpoint down") if name == "Risk Officer" else Reply("very slow words", delay=30)

    async with asyncio.timeout(5):  # a guard: the failure must not wait for the slow writers
        with pytest.raises(LLMError, match="endpoint down"):
            await collect(meeting(board_script(speech=speech), ["Strategist", "Risk Officer", "Investor"]))
    await asyncio.sleep(0)
    assert [t for t in opening_tasks() if not t.done()] == []


async def test_cancelling_the_meeting_cancels_the_opening_writers():
    first_chunk = asyncio.Event()
    model = board_script(
        speech=lambda name, r: Reply("slow " * 50, delay=0.05 if name == "Strategist" else 5)
    )
    seen: list[ev.Event] = []

    async def follow() -> None:
        async for event in meeting(model, ["Strategist", "Risk Officer", "Investor"]).run():
            seen.append(event)
            if isinstance(event, ev.ExpertSpeechChunk):
                first_chunk.set()

    task = asyncio.create_task(follow())
    await first_chunk.wait()
    writers = opening_tasks()
    assert len(writers) == 3
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert all(w.done() for w in writers) and not any(isinstance(e, ev.ExpertSpeech) for e in seen)


async def test_leaving_the_meeting_early_closes_the_opening_writers():
    model = board_script(
        speech=lambda name, r: Reply("slow " * 50, delay=0.05 if name == "Strategist" else 5)
    )
    run = meeting(model, ["Strategist", "Risk Officer"]).run()
    async for event in run:
        if isinstance(event, ev.ExpertSpeechChunk):
            break
    writers = opening_tasks()
    await run.aclose()
    assert writers and all(w.done() for w in writers)
