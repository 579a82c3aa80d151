"""A board meeting as a flow: run the orchestrator, store the topic, every speech, summary and the conclusion."""

from __future__ import annotations

from contextlib import aclosing
from typing import TYPE_CHECKING

from agentkit_app.engine import events as ev
from agentkit_app.engine.board import (
    BoardCommandError,
    BoardOrchestrator,
    conclusion_markdown,
    parse_board_command,
)
from agentkit_app.engine.experts import UnknownExpertsError
from agentkit_app.engine.llm.base import LLMError
from agentkit_app.service.flows.records import BOARD_AGENT, final_answer, store_event
from agentkit_app.service.flows.usage import UsageCounter
from agentkit_app.store.models import SessionKind
from agentkit_app.store.records import MessageType, RunRequest

if TYPE_CHECKING:
    from agentkit_app.service.flows.context import RunContext


async def run(ctx: RunContext) -> None:
    """Hold a board meeting for ``@board ...``: store the topic, every speech, summary and the conclusion."""
    experts_catalog, recorder, language = ctx.catalog.experts, ctx.recorder, ctx.language
    try:
        board = parse_board_command(ctx.text, ctx.config.board_max_rounds, experts_catalog.names())
        names = board.expert_names or ctx.catalog.default_template("board")
        experts = [e for e in experts_catalog.resolve(names) if not e.is_moderator]
        moderator = experts_catalog.moderator()
        if not experts or moderator is None:
            raise BoardCommandError("board_needs_experts")
    except (BoardCommandError, UnknownExpertsError) as exc:
        await recorder.persist_input(RunRequest(message_type=MessageType.BOARD_REQUEST), ctx.text)
        await recorder.fail(exc.text(language), BOARD_AGENT, "invalid")
        return
    await recorder.persist_input(RunRequest(message_type=MessageType.BOARD_REQUEST), f"@board {board.topic}")
    await ctx.store.update_session(ctx.session.session_id, kind=SessionKind.BOARD)
    counter = UsageCounter(ctx.llm)
    orchestrator = BoardOrchestrator(
        llm=counter,
        experts=experts,
        moderator=moderator,
        topic=board.topic,
        max_rounds=board.rounds,
        interaction=ctx.run.interaction,
        team_id=ctx.run.run_id,
        model=ctx.request.model,
        language=language,
    )
    concluded: ev.BoardConcluded | None = None
    try:
        async with aclosing(orchestrator.run()) as events:  # a cancel closes the meeting's own tasks at once
            async for event in events:
                if isinstance(event, ev.Error):
                    await recorder.fail(event.message, BOARD_AGENT, event.code or "llm")
                    return
                recorder.publish(event)
                # the conclusion is the meeting's last model call: its card keeps the meeting's total
                figures = counter.figures() if isinstance(event, ev.BoardConcluded) else None
                await store_event(recorder, event, BOARD_AGENT, figures)
                if isinstance(event, ev.BoardConcluded):
                    concluded = event
    except LLMError as exc:
        await recorder.fail(str(exc), BOARD_AGENT, "llm")
        return
    if concluded is not None:
        await final_answer(
            recorder, BOARD_AGENT, MessageType.BOARD_FINAL, conclusion_markdown(concluded, language), counter
        )
