"""Items from stored records: the usage line, the tool cards and the bubbles a reload rebuilds (no browser)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from agentkit_app.store.models import MessagePublic
from agentkit_app.store.records import ChatAnswer, Usage, UsageFields, dump_record
from agentkit_app.ui.announce import spoken_answer
from agentkit_app.ui.items import clock, usage_line
from agentkit_app.ui.timeline import ChatItem, items_from_messages


def _message(n: int, role: str, content: str, metadata: dict[str, Any]) -> MessagePublic:
    return MessagePublic(
        message_id=f"m{n}",
        session_id="s",
        role=role,
        content=content,
        metadata=metadata,
        created_at=datetime(2026, 11, 25, 15, 30, tzinfo=UTC),
    )


def test_the_usage_line_names_model_tokens_time_and_a_tier_other_than_main():
    usage = Usage(prompt_tokens=120, completion_tokens=45, first_token_s=0.25, total_s=3.5, calls=2)
    assert usage_line(UsageFields(model="demo", tier="recovery", usage=usage)) == (
        "demo · 120↑ 45↓ · TTFT 0.25s · 3.50s · recovery"
    )
    assert (
        usage_line(UsageFields(model="demo", tier="main", usage=Usage(total_s=1))) == "demo · 0↑ 0↓ · 1.00s"
    )
    assert usage_line(UsageFields(model="demo")) == ""


def test_a_reload_rebuilds_each_kind_of_bubble_from_its_record():
    steps = [
        {"event_type": "tool_call", "step": 1, "tool": "advance_phase", "arguments": "{}"},
        {"event_type": "tool_call", "step": 2, "tool": "calculator", "arguments": '{"x": 1}'},
        {"event_type": "tool_result", "step": 2, "tool": "calculator", "result": "2", "duration_s": 0.5},
    ]
    answer = ChatAnswer(agent_name="assistant", steps=steps, phases=["explore", "act"], cancelled=True)
    items = items_from_messages(
        [
            _message(1, "user", "hi", {"attachments": [{"filename": "a.txt", "stored_name": "0a.txt"}]}),
            _message(2, "assistant", "partial", dump_record(answer)),
            _message(3, "user", "stop", {"message_type": "intervention"}),
            _message(4, "assistant", "timed out", {"message_type": "error"}),
            _message(5, "assistant", "a speech stored without its event", {"message_type": "board_speech"}),
            _message(6, "tool", "tool output", {}),
        ]
    )
    assert [(i.kind, i.content) for i in items] == [
        ("user", "hi"),
        ("assistant", "partial"),
        ("intervention", "stop"),
        ("error", "timed out"),
        ("assistant", "a speech stored without its event"),
    ]
    # answers can be rated, the user's messages, interventions and errors cannot
    assert [i.rateable for i in items] == [False, True, False, False, True]
    user, bubble = items[0], items[1]
    assert user.attachments == ["a.txt"]
    assert isinstance(bubble, ChatItem) and bubble.cancelled and bubble.answer.mode_phase == "act"
    assert [(s.tool, s.arguments, s.result, s.status) for s in bubble.answer.steps] == [
        ("calculator", '{"x": 1}', "2", "done")
    ]


def test_an_item_carries_its_instant_in_utc_for_the_reader_to_place():
    shanghai = datetime(2026, 11, 25, 9, 5, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert clock(shanghai) == "2026-11-25T01:05:00+00:00"
    assert clock("2026-11-25T01:05:00") == "2026-11-25T01:05:00+00:00", "stored without a zone: UTC"
    assert clock("not a time") == ""
    assert clock().endswith("+00:00")


def test_screen_readers_hear_the_last_answer_once_it_is_written():
    items = [ChatItem(kind="user", content="hi"), ChatItem(kind="assistant", content=" Hello! ")]
    assert spoken_answer(items) == "Hello!"
    assert spoken_answer([*items, ChatItem(kind="conclusion", content="Ship it.")]) == "Ship it."
    assert spoken_answer([ChatItem(kind="user", content="hi")]) == ""
    markdown = "## Result\n\nThe result is **84**, see [the docs](https://x.y) and `calc`.\n- one\n> quoted"
    assert spoken_answer([ChatItem(kind="assistant", content=markdown)]) == (
        "Result\n\nThe result is 84, see the docs and calc.\none\nquoted"
    )
    assert (
        spoken_answer([ChatItem(kind="assistant", content="snake_case and 2 * 3 * 4")])
        == "snake_case and 2 * 3 * 4"
    )
    long = spoken_answer([ChatItem(kind="assistant", content="word " * 1000)])
    assert len(long) <= 2001 and long.endswith("…")
