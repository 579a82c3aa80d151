"""The timeline as pure data: live events and stored messages give the same items (no browser)."""

from __future__ import annotations

import json
from typing import Any

from agentkit_app.engine import events as ev
from agentkit_app.engine.llm.demo import DemoModel
from agentkit_app.engine.llm.scripted import Call, Reply, ScriptedModel
from agentkit_app.service.chat import ChatService, TurnRequest
from agentkit_app.service.flows import BOARD_AGENT, TEAM_AGENT
from agentkit_app.ui.timeline import ChatItem, Timeline, items_from_messages, plain

USAGE_META = {
    "model": "offline-demo",
    "usage": {
        "prompt_tokens": 120,
        "completion_tokens": 45,
        "first_token_s": 0.25,
        "total_s": 3.5,
        "calls": 7,
    },
}
EXPERTS = [
    {"name": "Tech Lead", "avatar": "🧭", "color": "#111111"},
    {"name": "Developer", "avatar": "💻", "color": "#222222"},
    {"name": "Reviewer", "avatar": "🔍", "color": "#333333"},
]
PHASES = [
    {"id": "a", "name": "Build", "expert": "Developer", "depends_on": [], "status": "pending"},
    {"id": "b", "name": "Review", "expert": "Reviewer", "depends_on": ["a"], "status": "pending"},
]


def _team_formed(team_id: str = "run-1") -> ev.TeamFormed:
    return ev.TeamFormed(
        team_id=team_id, status="running", experts=EXPERTS, plan_phases=PHASES, lead_expert="Tech Lead"
    )


def _only(items: list[ChatItem], kind: str) -> ChatItem:
    found = [i for i in items if i.kind == kind]
    assert len(found) == 1, [i.kind for i in items]
    return found[0]


def test_the_board_final_answer_puts_the_meeting_usage_on_the_conclusion():
    timeline = Timeline()
    timeline.add_user("@board pricing")
    for event in [
        ev.BoardStarted(team_id="b1", topic="pricing", experts=[{"name": "Strategist"}], max_rounds=1),
        ev.ExpertSpeech(
            content="raise",
            expert_name="Strategist",
            expert_avatar="🧠",
            expert_color="#123456",
            round=1,
            role="expert",
        ),
        ev.RoundSummary(
            content="agreed",
            moderator_name="Moderator",
            moderator_avatar="🎙",
            moderator_color="#654321",
            round=1,
        ),
        ev.BoardConcluded(
            summary="raise prices",
            decision_advice="do it",
            total_rounds=1,
            consensus_points=["yes"],
            dissent_points=[],
        ),
    ]:
        timeline.apply(event, BOARD_AGENT)
    assert _only(timeline.items, "conclusion").usage == ""
    timeline.apply(
        ev.FinalAnswer(content="## Summary", metadata={"message_type": "board_final", **USAGE_META})
    )
    conclusion = _only(timeline.items, "conclusion")
    assert conclusion.usage == "offline-demo · 120↑ 45↓ · TTFT 0.25s · 3.50s"
    assert conclusion.copy_text == "## Summary", "⧉ on the conclusion copies the meeting's answer"
    assert [i.kind for i in timeline.items] == [
        "user",
        "board_start",
        "round",
        "speech",
        "summary",
        "conclusion",
    ]


def test_expert_step_is_the_running_phase_activity_until_the_phase_ends():
    timeline = Timeline()
    for event in [
        _team_formed(),
        ev.PhaseStarted(phase_id="a", name="Build", expert_name="Developer"),
        ev.ExpertStep(
            expert_id="Developer", expert_name="Developer", expert_color="#222", content="Build: code", step=1
        ),
    ]:
        timeline.apply(event, TEAM_AGENT)
    build, review = _only(timeline.items, "team").team.phases
    assert (build.status, build.activity, review.activity) == ("running", "Build: code", "")
    timeline.apply(ev.PlanUpdate(plan_phases=PHASES), TEAM_AGENT)  # a replan keeps what a phase is doing
    build = _only(timeline.items, "team").team.phases[0]
    assert build.activity == "Build: code"
    timeline.apply(
        ev.PhaseCompleted(
            phase_id="a", name="Build", expert_name="Developer", result="built", duration_s=1.0
        ),
        TEAM_AGENT,
    )
    build = _only(timeline.items, "team").team.phases[0]
    assert (build.status, build.activity, build.result) == ("done", "", "built")


def test_team_notes_wait_for_their_card_and_the_final_answer_brings_the_usage():
    timeline = Timeline()
    timeline.add_user("@team ship it")
    timeline.apply(ev.PlanStep(content="Tech Lead is fixing the plan: unknown expert"), TEAM_AGENT)
    timeline.apply(_team_formed(), TEAM_AGENT)
    timeline.apply(
        ev.CollaborationNotice(content="synthesis failed (down); showing the phase results"), TEAM_AGENT
    )
    timeline.apply(ev.TeamSynthesis(content="Shipped."), TEAM_AGENT)
    timeline.apply(ev.TeamDissolved(team_id="run-1"), TEAM_AGENT)
    timeline.apply(ev.FinalAnswer(content="Shipped.", metadata={"message_type": "team_final", **USAGE_META}))
    team = _only(timeline.items, "team")
    assert team.team.notes == [
        "Tech Lead is fixing the plan: unknown expert",
        "synthesis failed (down); showing the phase results",
    ]
    assert _only(timeline.items, "synthesis").usage.startswith("offline-demo · 120↑ 45↓")
    assert [i.kind for i in timeline.items] == [
        "user",
        "team",
        "synthesis",
    ]  # the final answer adds no bubble


def test_a_resume_notice_goes_on_the_card_the_run_started():
    timeline = Timeline()
    timeline.add_user("@team ship it")
    timeline.apply(_team_formed("run-1"), TEAM_AGENT)
    resumed = Timeline(timeline.items)  # the page follows the resumed run on the items it shows
    resumed.apply(ev.CollaborationNotice(content="resuming after 1 finished phase(s)"), TEAM_AGENT)
    resumed.apply(_team_formed("run-1"), TEAM_AGENT)
    assert _only(resumed.items, "team").team.notes == ["resuming after 1 finished phase(s)"]


def test_a_new_team_run_does_not_note_on_the_card_of_an_earlier_run():
    timeline = Timeline()
    timeline.add_user("@team first")
    timeline.apply(_team_formed("run-1"), TEAM_AGENT)
    timeline.add_user("@team second")
    timeline.apply(ev.CollaborationNotice(content="the lead gave no readable plan"), TEAM_AGENT)
    timeline.apply(_team_formed("run-2"), TEAM_AGENT)
    first, second = [i for i in timeline.items if i.kind == "team"]
    assert (first.team.notes, second.team.notes) == ([], ["the lead gave no readable plan"])


def _without_clock(items: list[ChatItem]) -> list[dict[str, Any]]:
    """The items without what differs by nature between a live view and a reload (id, clock, and whether a
    card can be rated: a live card has no stored id to vote on until its run ends)."""
    return [{k: v for k, v in item.items() if k not in ("id", "time", "rateable")} for item in plain(items)]


async def _live_and_reloaded(service: ChatService, text: str) -> tuple[list[ChatItem], list[ChatItem]]:
    """Run ``text`` in a new session as the page shows it live, and rebuild the page from the stored messages."""
    session = await service.create_session("assistant")
    live = Timeline()
    live.add_user(text)
    async for event in service.run_turn(TurnRequest(session_id=session.session_id, content=text)):
        live.apply(event, TEAM_AGENT)
    return live.items, items_from_messages(await service.store.get_messages(session.session_id))


async def test_a_reload_rebuilds_the_live_team_run(service_factory):
    service = service_factory(DemoModel(word_delay_s=0))
    live, reloaded = await _live_and_reloaded(service, "@team build a landing page")
    assert [i.kind for i in live] == ["user", "team", "synthesis"]
    assert _without_clock(reloaded) == _without_clock(live)
    assert [i.rateable for i in reloaded] == [False, False, True]  # the synthesis can be rated
    team, synthesis = live[1], live[2]
    assert [(p.status, bool(p.result), p.activity) for p in team.team.phases] == [("done", True, "")] * 3
    assert "Team result" in synthesis.content and not synthesis.streaming
    assert "Team result" in synthesis.copy_text
    assert synthesis.usage.startswith("offline-demo · ")


async def test_a_reload_keeps_the_notes_of_a_team_run(service_factory):
    plan = {"phases": [
        {"id": "a", "name": "Build", "expert": "Developer", "depends_on": [], "goal": "build"},
        {"id": "b", "name": "Review", "expert": "Reviewer", "depends_on": ["a"], "goal": "review"},
    ]}  # fmt: skip
    wrong = {"phases": [{**plan["phases"][0], "expert": "Wizard"}, plan["phases"][1]]}

    def script(call: Call) -> Reply:
        if call.purpose == "team.plan":
            return Reply(text=json.dumps(wrong))
        if call.purpose == "team.plan_fix":
            return Reply(text=json.dumps(plan))
        if call.purpose == "team.synthesis":
            return Reply(error="endpoint down")
        return Reply(
            text="VERDICT: approve\nfine" if "Your phase: Review" in call.messages[-1]["content"] else "built"
        )

    service = service_factory(ScriptedModel(script))
    live, reloaded = await _live_and_reloaded(service, "@team:Tech Lead,Developer,Reviewer ship it")
    assert _without_clock(reloaded) == _without_clock(live)
    team = _only(live, "team")
    assert len(team.team.notes) == 2
    assert team.team.notes[0].startswith(
        "Tech Lead is fixing the plan: phase 'a' is assigned to an unknown expert 'Wizard'"
    )
    assert team.team.notes[1] == "synthesis failed (endpoint down); showing the phase results"
    synthesis = _only(live, "synthesis")
    assert "### Build\nbuilt" in synthesis.content
    # plan, plan fix, two phases and the failed synthesis: every call counts
    assert synthesis.usage and len(service.llm.calls) == 5
