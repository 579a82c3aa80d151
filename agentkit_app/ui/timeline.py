"""The conversation as render-ready items, built the same way from live events and stored messages.

``items_from_messages`` (a reload) replays each stored board or team event through the same
:class:`Timeline` a live run drives, so a restored board or team looks exactly like the live one.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from agentkit_app.engine import events as ev
from agentkit_app.store.models import MessagePublic, rateable
from agentkit_app.store.records import (
    AnyRecord,
    ChatAnswer,
    ErrorRecord,
    EventRecord,
    Intervention,
    MessageRole,
    RunAnswer,
    UsageFields,
    UserTurn,
)
from agentkit_app.ui.items import (
    QUIET_TOOLS,
    AnswerPart,
    ChatItem,
    PhaseItem,
    StepItem,
    VersionsPart,
    clock,
    pretty_arguments,
    run_answer_card,
    usage_line,
)
from agentkit_app.ui.live_timeline import Timeline

__all__ = ["ChatItem", "PhaseItem", "StepItem", "Timeline", "items_from_messages", "plain", "usage_line"]


def _step_cards(steps: list[dict[str, Any]]) -> list[StepItem]:
    """Return the tool cards of a stored answer's steps (each a call, then its result)."""
    cards: list[StepItem] = []
    for step in steps:
        if step.get("tool") in QUIET_TOOLS:
            continue
        if step.get("event_type") == "tool_call":
            cards.append(
                StepItem(tool=str(step.get("tool", "")), arguments=pretty_arguments(step.get("arguments")))
            )
        elif step.get("event_type") == "tool_result" and cards:
            cards[-1].result = str(step.get("result", ""))
            cards[-1].duration = f"{float(step.get('duration_s') or 0):.2f}s"
            cards[-1].status = "done"
    return cards


def _usage(record: AnyRecord) -> str:
    return usage_line(record) if isinstance(record, UsageFields) else ""


def _alternatives(item: ChatItem, message: MessagePublic) -> ChatItem:
    """Mark which of its versions a user message or answer is, and its neighbours."""
    versions = message.alternatives
    if len(versions) > 1 and message.message_id in versions:
        at = versions.index(message.message_id)
        item.versions = VersionsPart(
            label=f"{at + 1} / {len(versions)}",
            prev=versions[at - 1] if at > 0 else "",
            next=versions[at + 1] if at + 1 < len(versions) else "",
        )
    return item


def _replay(timeline: Timeline, event: ev.Event, record: EventRecord, message: MessagePublic) -> None:
    """Apply a stored board or team event as the live run did, stamped with the stored message's time."""
    before = len(timeline.items)
    timeline.apply(event)
    if len(timeline.items) > before:  # a phase or a note updates a card instead of adding one
        item = timeline.items[-1]
        item.time = clock(message.created_at)
        if item.kind in ("speech", "summary", "conclusion", "synthesis"):
            item.id = message.message_id  # search results link to it, and a vote names it
            item.rateable = rateable(record)
        if item.kind in ("conclusion", "synthesis"):
            item.usage = _usage(record)  # the usage of the whole run


def _answer_item(message: MessagePublic, record: AnyRecord) -> ChatItem:
    """Return the bubble of a stored answer (or of an error shown in place of one)."""
    answer = record if isinstance(record, ChatAnswer) else ChatAnswer()
    phases = answer.phases or []
    item = ChatItem(
        id=message.message_id,
        kind="error" if isinstance(record, ErrorRecord) else "assistant",
        content=message.content,
        agent=message.agent_name or "",
        time=clock(message.created_at),
        cancelled=bool(answer.cancelled),
        interrupted=bool(answer.interrupted),
        usage=_usage(record),
        rateable=rateable(record),
        answer=AnswerPart(
            steps=_step_cards(answer.steps or []),
            skill=answer.skill or "",
            mode_phases=list(phases),
            mode_phase=phases[-1] if phases else "",
        ),
    )
    return _alternatives(item, message)


def items_from_messages(messages: list[MessagePublic]) -> list[ChatItem]:
    """Rebuild the conversation's items from stored messages."""
    timeline = Timeline()
    for message in messages:
        record = message.record
        if isinstance(record, EventRecord) and (event := record.event()) is not None:
            _replay(timeline, event, record, message)
        elif isinstance(record, Intervention):
            timeline.items.append(
                ChatItem(
                    id=message.message_id,
                    kind="intervention",
                    content=message.content,
                    time=clock(message.created_at),
                )
            )
        elif message.role == MessageRole.USER:
            attached = record.attachments if isinstance(record, UserTurn) else None
            item = ChatItem(
                id=message.message_id,
                kind="user",
                content=message.content,
                time=clock(message.created_at),
                attachments=[str(a.get("filename", "")) for a in attached or []],
            )
            timeline.items.append(_alternatives(item, message))
        elif isinstance(record, RunAnswer):  # the run's answer: copied from its card
            card = timeline.last_of(run_answer_card(record.message_type))
            if card is not None:
                card.copy_text = message.content
        elif message.role == MessageRole.ASSISTANT:
            timeline.items.append(_answer_item(message, record))
    return timeline.items


def plain(items: list[ChatItem]) -> list[dict[str, Any]]:
    """Return the items as plain dicts (what a test compares)."""
    return [dataclasses.asdict(i) for i in items]
