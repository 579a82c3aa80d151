"""Full-text search across sessions, on SQLite (FTS5) and PostgreSQL."""

from __future__ import annotations

import pytest

from agentkit_app.store.sessions import SessionManager


async def _seed(manager: SessionManager) -> dict[str, str]:
    shop = await manager.create_session(agent_name="assistant", kind="board")
    await manager.append_message(session_id=shop.session_id, role="user", content="@board should we open a second bakery",
                                 metadata={"message_type": "board_request"})  # fmt: skip
    await manager.append_message(session_id=shop.session_id, role="assistant", content="The bakery pilot needs a budget.",
                                 metadata={"message_type": "board_speech"})  # fmt: skip
    math = await manager.create_session(agent_name="assistant")
    await manager.append_message(
        session_id=math.session_id, role="user", content="what is the capital of France?"
    )
    await manager.append_message(session_id=math.session_id, role="tool", content="bakery in a tool result")
    zh = await manager.create_session(agent_name="assistant")
    await manager.append_message(
        session_id=zh.session_id, role="user", content="请帮我写一份面包店的营销计划"
    )
    return {"shop": shop.session_id, "math": math.session_id, "zh": zh.session_id}


async def test_search_finds_words_topics_and_chinese_across_sessions(manager: SessionManager):
    ids = await _seed(manager)
    hits = await manager.search("bakery")
    assert {h.session_id for h in hits} == {ids["shop"]}, "tool output is not searched"
    assert {h.message_type for h in hits} == {"board_request", "board_speech"}
    assert all("bakery" in h.snippet.lower() for h in hits)
    capital = await manager.search("capital of france")
    assert [h.session_id for h in capital] == [ids["math"]]
    assert capital[0].role == "user" and capital[0].session_title.startswith("what is the capital")
    zh = await manager.search("面包店")
    assert [h.session_id for h in zh] == [ids["zh"]]
    assert await manager.search("submarine") == []


async def test_search_handles_short_and_odd_queries(manager: SessionManager):
    ids = await _seed(manager)
    assert [h.session_id for h in await manager.search("营销")] == [ids["zh"]]  # shorter than a trigram
    assert await manager.search('"; DROP TABLE messages; --') == []
    assert await manager.search("100%") == []
    assert len(await manager.search("a", limit=2)) == 2
    with pytest.raises(ValueError, match="empty"):
        await manager.search("   ")
    with pytest.raises(ValueError, match="longer than"):
        await manager.search("x" * 201)


async def test_a_deleted_session_leaves_nothing_to_find(manager: SessionManager):
    kept = (await manager.create_session(agent_name="assistant")).session_id
    gone = (await manager.create_session(agent_name="assistant")).session_id
    for sid in (kept, gone):
        await manager.append_message(session_id=sid, role="user", content=f"quetzalcoatl notes in {sid}")
        await manager.append_message(session_id=sid, role="assistant", content="noted")
    assert await manager.delete_session(gone) is True
    assert {h.session_id for h in await manager.search("quetzalcoatl", 10)} == {kept}
    assert await manager.get_session(gone) is None and await manager.get_messages(gone) == []
    assert len(await manager.get_messages(kept)) == 2
    assert await manager.delete_session(gone) is False
