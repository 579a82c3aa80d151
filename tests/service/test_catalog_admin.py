"""Admins shape agents, experts and templates: checked edits that apply to the next turn, in every process."""

from __future__ import annotations

import asyncio

import pytest

from agentkit_app.engine.llm.scripted import Call, Reply, ScriptedModel
from agentkit_app.service import catalog_admin
from agentkit_app.service.access import AccessControl, Principal
from agentkit_app.service.chat import ChatService, TurnRequest
from agentkit_app.service.errors import Conflict, Forbidden, InvalidInput, NotFound
from agentkit_app.store.accounts import AccountStore
from agentkit_app.store.catalog import AgentFields, ExpertFields, TemplateFields
from tests.conftest import make_service

ADMIN = Principal(role="admin", user_id="boss")
USER = Principal(role="user", user_id="u1")


def _prompted(seen: list[str]):
    def answer(call: Call) -> Reply:
        if call.purpose == "chat":
            seen.append(str(call.messages[0]["content"]))
        return Reply(text="done")

    return ScriptedModel(answer)


def _with_accounts(service: ChatService) -> ChatService:
    service.access = AccessControl(
        AccountStore(service.store.engine), enabled=True, jwt_secret="s" * 40, token_ttl_s=3600
    )
    return service


def _poet(prompt: str = "You are a poet who answers in verse.", **changes) -> AgentFields:
    return AgentFields(
        **{"display_name": "Poet", "system_prompt": prompt, "tools": ["calculator"], **changes}
    )


async def _ask(service: ChatService, session_id: str, text: str = "hello there, write me something") -> None:
    run = await service.start_turn(TurnRequest(session_id=session_id, content=text))
    await asyncio.wait_for(run.task, 5)


@pytest.fixture
def service(tmp_path) -> ChatService:
    return _with_accounts(make_service(tmp_path, _prompted([])))


async def test_a_new_agent_answers_at_once_and_an_edit_applies_to_the_next_turn(tmp_path) -> None:
    seen: list[str] = []
    service = _with_accounts(make_service(tmp_path, _prompted(seen)))
    await service.save_agent(ADMIN, "poet", _poet(), create=True)
    assert "poet" in [a.name for a in service.catalog.choices()]
    session = await service.create_session("poet")
    await _ask(service, session.session_id)
    await service.save_agent(ADMIN, "poet", _poet("You are a poet who answers in haiku."), create=False)
    await _ask(service, session.session_id)
    assert "in verse" in seen[0] and "in haiku" in seen[1]


async def test_another_process_sees_an_edit_within_the_refresh_period(tmp_path, monkeypatch) -> None:
    seen: list[str] = []
    here = _with_accounts(make_service(tmp_path, _prompted(seen)))
    there = _with_accounts(make_service(tmp_path, _prompted([])))  # same database, another service
    here.seed_catalog_now()
    session = await here.create_session("assistant")
    await there.save_agent(
        ADMIN, "assistant", _poet("You are the edited assistant.").model_copy(), create=False
    )
    await _ask(here, session.session_id)  # checked less than the refresh period ago: the old prompt
    monkeypatch.setattr(catalog_admin, "REFRESH_EVERY_S", 0.0)
    await _ask(here, session.session_id)
    assert "edited" not in seen[0] and "You are the edited assistant." in seen[1]


async def test_a_turn_checks_the_version_at_most_once_per_period(service: ChatService) -> None:
    queries = 0
    version = service.catalog_store.version

    async def counted() -> int | None:
        nonlocal queries
        queries += 1
        return await version()

    service.catalog_store.version = counted  # type: ignore[method-assign]
    service.seed_catalog_now()
    for _ in range(5):
        await service.refresh_catalog()
    assert queries == 0
    await service.refresh_catalog(force=True)
    assert queries == 1


@pytest.mark.parametrize(
    ("fields", "key"),
    [
        (_poet(tools=["calculator", "rm_rf"]), "catalog_err_tool"),
        (_poet("   \n "), "catalog_err_empty"),
        (_poet("x" * 8001), "catalog_err_too_long"),
        (_poet(model="gpt-unknown"), "catalog_err_model"),
    ],
)
async def test_a_bad_agent_is_refused_saying_why(service: ChatService, fields: AgentFields, key: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        await service.save_agent(ADMIN, "poet", fields, create=True)
    assert refused.value.key == key
    assert service.catalog.agent("poet") is None


@pytest.mark.parametrize("name", ["Poet", "<script>", "a" * 41, "", "po et", "../x", "poète"])
async def test_an_agent_name_is_a_short_lower_case_key(service: ChatService, name: str) -> None:
    with pytest.raises(InvalidInput, match="invalid name"):
        await service.save_agent(ADMIN, name, _poet(), create=True)


async def test_duplicates_and_unknown_entries_are_refused(service: ChatService) -> None:
    with pytest.raises(Conflict, match="taken"):
        await service.save_agent(ADMIN, "assistant", _poet(), create=True)
    with pytest.raises(Conflict, match="taken"):  # expert names are matched without case, as commands do
        await service.save_expert(
            ADMIN, "strategist", ExpertFields(avatar="🦉", color="#123456", persona="p"), create=True
        )
    with pytest.raises(NotFound):
        await service.save_agent(ADMIN, "nobody", _poet(), create=False)


@pytest.mark.parametrize(
    ("avatar", "color", "key"),
    [
        ("javascript:alert(1)", "#123456", "catalog_err_avatar"),
        ("/assets/../secrets.png", "#123456", "catalog_err_avatar"),
        ("https://evil.example/a.png", "#123456", "catalog_err_avatar"),
        ("/assets/x.html", "#123456", "catalog_err_avatar"),
        ("🦉\u202e", "#123456", "catalog_err_avatar"),
        ("🦉", "red", "catalog_err_color"),
        ("🦉", "#12345g", "catalog_err_color"),
    ],
)
async def test_an_expert_looks_like_an_emoji_or_a_shipped_picture_on_a_hex_colour(
    service: ChatService, avatar: str, color: str, key: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        await service.save_expert(
            ADMIN, "Owl", ExpertFields(avatar=avatar, color=color, persona="p"), create=True
        )
    assert refused.value.key == key


async def test_an_expert_with_a_shipped_picture_joins_a_board_template(service: ChatService) -> None:
    owl = ExpertFields(
        avatar="/assets/experts/owl.png", color="#AABBCC", persona="You are wise.", role="wisdom"
    )
    stored = await service.save_expert(ADMIN, "Night Owl", owl, create=True)
    assert stored.color == "#aabbcc"
    board = TemplateFields(kind="board", experts=["night owl", "Moderator"])
    template = await service.save_template(ADMIN, "owls", board, create=True)
    assert template.experts == ["Night Owl", "Moderator"]
    assert service.catalog.experts.template("owls")[0].avatar == "/assets/experts/owl.png"


async def test_bad_templates_are_refused(service: ChatService) -> None:
    cases = [
        (TemplateFields(kind="team", experts=["Developer"]), "catalog_err_no_lead"),
        (TemplateFields(kind="team", lead="Nobody", experts=["Developer"]), "catalog_err_unknown_experts"),
        (TemplateFields(kind="team", lead="Developer", experts=["developer"]), "catalog_err_twice"),
        (TemplateFields(kind="board", experts=[]), "catalog_err_members"),
        (TemplateFields(kind="board", experts=["Moderator"]), "catalog_err_members"),
    ]
    for fields, key in cases:
        with pytest.raises(InvalidInput) as refused:
            await service.save_template(ADMIN, "broken", fields, create=True)
        assert refused.value.key == key


async def test_what_something_depends_on_cannot_be_deleted(service: ChatService) -> None:
    with pytest.raises(Conflict, match="dev_team"):
        await service.delete_catalog_entry(ADMIN, "expert", "Developer")
    with pytest.raises(InvalidInput, match="moderator"):
        await service.save_expert(
            ADMIN, "Moderator", ExpertFields(avatar="🧭", color="#6366f1", persona="p"), create=False
        )
    with pytest.raises(Conflict, match="last team template"):
        await service.delete_catalog_entry(ADMIN, "template", "dev_team")
    await service.save_template(
        ADMIN, "duo", TemplateFields(kind="team", lead="Developer", experts=["Reviewer"]), create=True
    )
    await service.delete_catalog_entry(ADMIN, "template", "dev_team")
    assert service.catalog.default_template("team") == ["Developer", "Reviewer"]


async def test_an_agent_in_use_is_hidden_not_deleted_and_its_sessions_keep_it(tmp_path) -> None:
    seen: list[str] = []
    service = _with_accounts(make_service(tmp_path, _prompted(seen)))
    await service.save_agent(ADMIN, "poet", _poet(), create=True)
    session = await service.create_session("poet")
    with pytest.raises(Conflict, match="hide it instead"):
        await service.delete_catalog_entry(ADMIN, "agent", "poet")
    await service.save_agent(ADMIN, "poet", _poet(enabled=False), create=False)
    assert "poet" not in [a.name for a in service.catalog.choices()]
    with pytest.raises(NotFound):
        await service.create_session("poet")
    await _ask(service, session.session_id)
    assert "in verse" in seen[-1]
    await service.save_agent(ADMIN, "unused", _poet(), create=True)
    await service.delete_catalog_entry(ADMIN, "agent", "unused")
    assert service.catalog.agent("unused") is None


async def test_the_last_agent_users_can_pick_stays(service: ChatService) -> None:
    await service.save_agent(ADMIN, "coder", _poet(enabled=False), create=False)
    with pytest.raises(InvalidInput, match="last agent"):
        await service.save_agent(ADMIN, "assistant", _poet(enabled=False), create=False)


async def test_only_admins_shape_the_catalog(service: ChatService) -> None:
    with pytest.raises(Forbidden):
        await service.save_agent(USER, "poet", _poet(), create=True)
    with pytest.raises(Forbidden):
        await service.delete_catalog_entry(USER, "agent", "coder")
    with pytest.raises(Forbidden):
        await service.catalog_listing(USER)
    assert service.catalog.agent("poet") is None


async def test_a_restart_keeps_the_edited_catalog_instead_of_reseeding(tmp_path) -> None:
    first = _with_accounts(make_service(tmp_path, _prompted([])))
    await first.save_agent(ADMIN, "poet", _poet(), create=True)
    restarted = make_service(tmp_path, _prompted([]))
    restarted.seed_catalog_now()
    assert restarted.catalog.agent("poet") is not None
