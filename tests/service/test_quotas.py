"""Accounts in the service: principals and tokens, session visibility, department quotas, the usage ledger."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime

import jwt
import pytest

from agentkit_app.engine import events as ev
from agentkit_app.engine.llm.demo import DemoModel
from agentkit_app.engine.llm.scripted import Call, Reply, ScriptedModel
from agentkit_app.service.access import AccessControl, Principal, period_start
from agentkit_app.service.chat import ChatService, TurnRequest
from agentkit_app.service.errors import (
    AccountsDisabled,
    Forbidden,
    NotFound,
    QuotaCheckFailed,
    QuotaExceeded,
    Unauthorized,
)
from agentkit_app.service.runtime import build_access
from agentkit_app.settings import ConfigurationError, Settings
from agentkit_app.store.accounts import AccountStore
from agentkit_app.store.db import make_engine, run_migrations
from agentkit_app.store.models import QuotaPublic

SECRET = "test-secret-0123456789-0123456789-abcdef"


def answer(call: Call) -> Reply:
    return (
        Reply(text="Owls") if call.purpose == "title" else Reply(text="owls hunt at night and sleep by day")
    )


def with_access(service: ChatService, *, enabled: bool = True, api_key: str | None = None) -> AccessControl:
    """Give the service accounts on its own database, and return them."""
    service.access = AccessControl(
        AccountStore(service.store.engine),
        enabled=enabled,
        jwt_secret=SECRET,
        token_ttl_s=3600,
        api_key=api_key,
    )
    return service.access


async def member(access: AccessControl, quotas: list[QuotaPublic], *, role: str = "user") -> Principal:
    """Return the principal of a new user in a new department with ``quotas``."""
    department = await access.accounts.create_department(f"dept-{time.monotonic_ns()}")
    await access.accounts.set_quotas(department.department_id, quotas)
    user = await access.accounts.create_user(
        username=f"{role}-{time.monotonic_ns()}",
        password="password-1",
        role=role,
        department_id=department.department_id,
    )
    return Principal.of_user(user)


async def turn(
    service: ChatService, principal: Principal | None, session_id: str, text: str = "tell me about owls"
):
    return [
        e
        async for e in service.run_turn(TurnRequest(session_id=session_id, content=text, principal=principal))
    ]


async def test_a_user_over_the_token_quota_is_refused_with_quota_info_and_nothing_is_stored(service_factory):
    llm = ScriptedModel(answer)
    service = service_factory(llm)
    access = with_access(service)
    user = await member(access, [QuotaPublic(quota_type="tokens", period="month", limit=10)])
    session = await service.create_session("assistant", principal=user)
    events = await turn(service, user, session.session_id)
    final = next(e for e in events if isinstance(e, ev.FinalAnswer))
    used = final.metadata["usage"]["prompt_tokens"] + final.metadata["usage"]["completion_tokens"]
    assert used >= 10
    calls, stored = len(llm.calls), await service.store.count_messages(session.session_id)

    with pytest.raises(QuotaExceeded) as refused:
        await service.start_turn(
            TurnRequest(session_id=session.session_id, content="and bats?", principal=user)
        )
    assert refused.value.status == 429 and str(refused.value) == "quota exceeded"
    assert refused.value.quota_info == {
        "department_id": user.department_id, "quota_type": "tokens", "period": "month", "limit": 10, "current": used,
    }  # fmt: skip
    streamed = await turn(service, user, session.session_id, "and bats?")
    assert streamed == [ev.Error(message="quota exceeded", code="quota", quota_info=refused.value.quota_info)]
    assert ev.to_wire(streamed[0])["data"]["quota_info"]["quota_type"] == "tokens"
    assert len(llm.calls) == calls, "the model is not asked"
    assert await service.store.count_messages(session.session_id) == stored, "nothing is stored"


async def test_a_requests_quota_allows_that_many_turns_per_day(service_factory):
    service = service_factory(ScriptedModel(answer))
    access = with_access(service)
    user = await member(access, [QuotaPublic(quota_type="requests", period="day", limit=2)])
    session = await service.create_session("assistant", principal=user)
    for _ in range(2):
        assert any(isinstance(e, ev.FinalAnswer) for e in await turn(service, user, session.session_id))
    with pytest.raises(QuotaExceeded) as refused:
        await service.start_turn(
            TurnRequest(session_id=session.session_id, content="one more", principal=user)
        )
    assert (refused.value.quota_info["current"], refused.value.quota_info["limit"]) == (2, 2)
    colleague = Principal(role="user", user_id="someone-else", department_id=user.department_id)
    other_session = await service.create_session("assistant", principal=colleague)
    with pytest.raises(QuotaExceeded):  # the quota is the department's, not the user's
        await service.start_turn(
            TurnRequest(session_id=other_session.session_id, content="hi?", principal=colleague)
        )


async def test_turns_still_running_count_as_requests_until_their_usage_is_recorded(service_factory):
    def script(call: Call) -> Reply:
        if call.purpose == "title":  # the run goes on for a while after its answer is stored and billed
            return Reply(text="Owls", delay=1.5)
        return Reply(text="slow answer", delay=0.2)

    service = service_factory(ScriptedModel(script))
    access = with_access(service)
    user = await member(access, [QuotaPublic(quota_type="requests", period="day", limit=3)])
    sessions = [await service.create_session("assistant", principal=user) for _ in range(4)]

    def request(index: int) -> TurnRequest:
        return TurnRequest(
            session_id=sessions[index].session_id, content="tell me about owls", principal=user
        )

    first = await service.start_turn(request(0))
    while not (await access.accounts.usage_of_session(sessions[0].session_id)):
        await asyncio.sleep(0.02)
    assert not first.done, "still titling the session"
    running = [await service.start_turn(request(1)), await service.start_turn(request(2))]
    with pytest.raises(QuotaExceeded) as refused:
        await service.start_turn(request(3))
    assert refused.value.quota_info["current"] == 3, (
        "one recorded and two in flight, the first not counted twice"
    )
    for run in [first, *running]:
        [e async for e in run.follow()]
    since = period_start("day", datetime.now(UTC))
    assert (await access.accounts.usage_since(user.department_id, since)).requests == 3


async def test_a_slow_usage_ledger_holds_back_no_answer_and_the_run_ends_billed(service_factory):
    service = service_factory(ScriptedModel(answer))
    access = with_access(service)
    user = await member(access, [QuotaPublic(quota_type="requests", period="day", limit=5)])
    session = await service.create_session("assistant", principal=user)
    ledger_open = asyncio.Event()
    record_answer = access.ledger.record_answer

    async def slow_record_answer(**fields):
        await ledger_open.wait()
        return await record_answer(**fields)

    access.ledger.record_answer = slow_record_answer  # type: ignore[method-assign]
    run = await service.start_turn(
        TurnRequest(session_id=session.session_id, content="tell me about owls", principal=user)
    )
    events = run.follow()
    async with asyncio.timeout(10):
        final = await anext(e async for e in events if isinstance(e, ev.FinalAnswer))
    assert final.content == "owls hunt at night and sleep by day", "shown while the ledger is still busy"
    assert final.metadata["message_id"], "the answer is stored before it is shown"
    await asyncio.sleep(0.2)
    assert not run.done, "the run waits for its bill"
    ledger_open.set()
    async with asyncio.timeout(10):
        [e async for e in events]
    (row,) = await access.accounts.usage_of_session(session.session_id)
    assert row.completion_tokens == final.metadata["usage"]["completion_tokens"] > 0, (
        "the reserved row was settled, not given back"
    )


async def test_turns_asked_for_at_the_same_instant_get_only_the_places_left(service_factory):
    service = service_factory(ScriptedModel(answer))
    access = with_access(service)
    user = await member(access, [QuotaPublic(quota_type="requests", period="day", limit=2)])
    sessions = [await service.create_session("assistant", principal=user) for _ in range(6)]
    outcomes = await asyncio.gather(
        *(
            service.start_turn(TurnRequest(session_id=s.session_id, content="owls?", principal=user))
            for s in sessions
        ),
        return_exceptions=True,
    )
    started = [o for o in outcomes if not isinstance(o, BaseException)]
    assert len(started) == 2 and all(isinstance(o, QuotaExceeded) for o in outcomes if o not in started)
    for run in started:
        [e async for e in run.follow()]
    since = period_start("day", datetime.now(UTC))
    assert (await access.accounts.usage_since(user.department_id, since)).requests == 2


async def test_a_turn_whose_model_fails_gives_its_place_back(service_factory):
    def script(call: Call) -> Reply:
        if "fail" in call.messages[-1]["content"]:
            return Reply(error="the model is down")
        return answer(call)

    service = service_factory(ScriptedModel(script))
    access = with_access(service)
    user = await member(access, [QuotaPublic(quota_type="requests", period="day", limit=1)])
    session = await service.create_session("assistant", principal=user)
    events = await turn(service, user, session.session_id, "please fail")
    assert any(isinstance(e, ev.Error) for e in events) and not any(
        isinstance(e, ev.FinalAnswer) for e in events
    )
    assert await access.accounts.usage_of_session(session.session_id) == []
    events = await turn(service, user, session.session_id, "tell me about owls")
    assert any(isinstance(e, ev.FinalAnswer) for e in events), (
        "the failed turn did not use up the day's request"
    )


async def test_admins_api_clients_and_users_without_a_department_are_not_limited(service_factory):
    service = service_factory(ScriptedModel(answer))
    access = with_access(service)
    user = await member(access, [QuotaPublic(quota_type="requests", period="day", limit=0)])
    session = await service.create_session("assistant", principal=user)
    with pytest.raises(QuotaExceeded):
        await service.start_turn(TurnRequest(session_id=session.session_id, content="hello?", principal=user))
    admin = Principal(role="admin", user_id="boss", department_id=user.department_id)
    loner = Principal.of_user(await access.accounts.create_user(username="loner", password="password-1"))
    for principal in (admin, Principal.api_client(), Principal.anonymous(), loner, None):
        own = await service.create_session("assistant", principal=principal)
        events = await turn(service, principal, own.session_id)
        assert any(isinstance(e, ev.FinalAnswer) for e in events), principal


async def test_a_department_that_cannot_be_found_refuses_the_turn(service_factory):
    llm = ScriptedModel(answer)
    service = service_factory(llm)
    with_access(service)
    orphan = Principal(role="user", user_id="u1", department_id="deleted-department")
    session = await service.create_session("assistant", principal=orphan)
    with pytest.raises(QuotaCheckFailed, match="department deleted-department not found") as refused:
        await service.start_turn(
            TurnRequest(session_id=session.session_id, content="tell me about owls", principal=orphan)
        )
    assert refused.value.status == 503
    assert llm.calls == [] and await service.store.count_messages(session.session_id) == 0


async def test_an_unreadable_account_store_refuses_the_turn(service_factory, tmp_path):
    llm = ScriptedModel(answer)
    service = service_factory(llm)
    # a database without the account tables: every lookup fails
    broken = AccountStore(make_engine(f"sqlite:///{tmp_path / 'not-migrated.db'}"))
    service.access = AccessControl(broken, enabled=True, jwt_secret=SECRET)
    user = Principal(role="user", user_id="u1", department_id="d1")
    session = await service.create_session("assistant", principal=user)
    with pytest.raises(QuotaCheckFailed, match="unavailable"):
        await service.start_turn(
            TurnRequest(session_id=session.session_id, content="tell me about owls", principal=user)
        )
    assert llm.calls == [] and await service.store.count_messages(session.session_id) == 0


async def test_every_answered_turn_adds_one_usage_row_with_the_principals_ids(service_factory):
    service = service_factory(ScriptedModel(answer))
    access = with_access(service)
    user = await member(access, [])
    session = await service.create_session("assistant", principal=user)
    finals = []
    for text in ("tell me about owls", "and bats?"):
        finals.append(
            next(
                e
                for e in await turn(service, user, session.session_id, text)
                if isinstance(e, ev.FinalAnswer)
            )
        )
    rows = await access.accounts.usage_of_session(session.session_id)
    assert len(rows) == 2, "one row per turn; the title call is not counted"
    for row, final in zip(rows, finals, strict=True):
        usage = final.metadata["usage"]
        assert (row.user_id, row.department_id) == (user.user_id, user.department_id)
        assert (row.prompt_tokens, row.completion_tokens) == (
            usage["prompt_tokens"],
            usage["completion_tokens"],
        )
        assert (row.model, row.tier) == (final.metadata["model"], "main")
    totals = await access.accounts.usage_since(user.department_id, period_start("day", datetime.now(UTC)))
    assert totals.requests == 2
    anonymous = await service.create_session("assistant")
    await turn(service, None, anonymous.session_id)
    (row,) = await access.accounts.usage_of_session(anonymous.session_id)
    assert (row.user_id, row.department_id) == (None, None) and row.completion_tokens > 0


async def test_a_board_meeting_counts_as_one_request_with_all_its_tokens(service_factory):
    service = service_factory(DemoModel(word_delay_s=0))
    access = with_access(service)
    user = await member(access, [QuotaPublic(quota_type="requests", period="day", limit=1)])
    session = await service.create_session("assistant", principal=user)
    events = await turn(
        service, user, session.session_id, "@board:Strategist,Risk Officer rounds=1 open a second shop"
    )
    final = next(e for e in events if isinstance(e, ev.FinalAnswer))
    (row,) = await access.accounts.usage_of_session(session.session_id)
    assert row.prompt_tokens == final.metadata["usage"]["prompt_tokens"] > 0
    assert row.user_id == user.user_id
    with pytest.raises(QuotaExceeded):
        await service.start_turn(
            TurnRequest(session_id=session.session_id, content="@team build a thing", principal=user)
        )


async def test_regenerate_and_edit_are_limited_like_new_turns(service_factory):
    service = service_factory(ScriptedModel(answer))
    access = with_access(service)
    user = await member(access, [QuotaPublic(quota_type="requests", period="day", limit=1)])
    session = await service.create_session("assistant", principal=user)
    await turn(service, user, session.session_id)
    before = await service.store.get_messages(session.session_id, branch="all")
    with pytest.raises(QuotaExceeded):
        await service.regenerate(session.session_id, principal=user)
    with pytest.raises(QuotaExceeded):
        await service.edit_message(
            session.session_id, before[0].message_id, "tell me about bats", principal=user
        )
    assert await service.store.get_messages(session.session_id, branch="all") == before
    assert [m.message_id for m in await service.store.get_messages(session.session_id)] == [
        m.message_id for m in before
    ]


async def test_users_see_and_use_only_their_own_sessions(service_factory):
    service = service_factory(ScriptedModel(answer))
    access = with_access(service)
    alice, bob = await member(access, []), await member(access, [])
    admin = Principal(role="admin", user_id="boss")
    session = await service.create_session("assistant", principal=alice)
    assert session.user_id == alice.user_id
    assert (await service.session_or_404(session.session_id, alice)).session_id == session.session_id
    for attempt in (
        service.session_or_404(session.session_id, bob),
        service.start_turn(TurnRequest(session_id=session.session_id, content="hi", principal=bob)),
        service.regenerate(session.session_id, principal=bob),
        service.close_session(session.session_id, bob),
    ):
        with pytest.raises(NotFound, match="session not found"):
            await attempt
    assert await service.session_or_404(session.session_id, admin)
    assert await service.session_or_404(session.session_id, Principal.api_client())
    assert bob.owner_filter == bob.user_id and admin.owner_filter is None


async def test_sign_in_tokens_carry_the_user_and_die_with_the_account(service_factory):
    service = service_factory(ScriptedModel(answer))
    access = with_access(service)
    department = await access.accounts.create_department("Ops")
    created = await access.accounts.create_user(
        username="zoe", password="password-1", department_id=department.department_id
    )
    token, user = await access.authenticate("zoe", "password-1")
    assert user == created
    claims = jwt.decode(token, SECRET, algorithms=["HS256"])
    assert (claims["sub"], claims["role"], claims["dept"]) == (user.user_id, "user", department.department_id)
    assert 3590 <= claims["exp"] - time.time() <= 3600
    assert await access.principal_from_token(token) == Principal.of_user(user)
    for username, password in (("zoe", "wrong-password"), ("nobody", "password-1")):
        with pytest.raises(Unauthorized, match="invalid username or password"):
            await access.authenticate(username, password)
    expired = jwt.encode({"sub": user.user_id, "exp": int(time.time()) - 5}, SECRET, algorithm="HS256")
    forged = jwt.encode(
        {"sub": user.user_id, "exp": int(time.time()) + 60}, "another-secret-" * 3, algorithm="HS256"
    )
    for bad in (expired, forged, "not-a-token", token[:-2]):
        with pytest.raises(Unauthorized):
            await access.principal_from_token(bad)
    await access.accounts.update_user(user.user_id, role="admin")
    assert (await access.principal_from_token(token)).role == "admin", (
        "the role is read from the account, not the token"
    )
    await access.accounts.update_user(user.user_id, disabled=True)
    with pytest.raises(Unauthorized):
        await access.principal_from_token(token)


async def test_credentials_resolve_to_principals(service_factory):
    service = service_factory(ScriptedModel(answer))
    access = with_access(service, api_key="k3y")
    await access.accounts.create_user(username="amy", password="password-1")
    token, user = await access.authenticate("amy", "password-1")
    assert (await access.resolve(token=token)).user_id == user.user_id
    assert await access.resolve(api_key="k3y") == Principal.api_client()
    for credentials in ({}, {"api_key": "wrong"}, {"token": "bad", "api_key": "k3y"}):
        with pytest.raises(Unauthorized):
            await access.resolve(**credentials)
    with pytest.raises(Forbidden):
        access.require_admin(Principal.of_user(user))
    access.require_admin(Principal(role="admin", user_id="x"))

    off = AccessControl(access.accounts, enabled=False, jwt_secret=SECRET, api_key="k3y")
    assert await off.resolve(api_key="k3y") == Principal.api_client()
    with pytest.raises(Unauthorized):
        await off.resolve(token=token)
    with pytest.raises(AccountsDisabled):
        await off.authenticate("amy", "password-1")
    assert await off.principal_for_web(None) == Principal.anonymous(), "the web UI needs no API key"
    assert (await access.principal_for_web(token)).user_id == user.user_id
    for missing in (None, "", "bad"):
        with pytest.raises(Unauthorized):
            await access.principal_for_web(missing)
    assert (
        await AccessControl(access.accounts, enabled=False, jwt_secret=SECRET).resolve()
        == Principal.anonymous()
    )


async def test_the_first_admin_is_created_once_and_only_with_a_password(service_factory):
    service = service_factory(ScriptedModel(answer))
    access = with_access(service)
    assert access.bootstrap_admin("admin", None) is None
    admin = access.bootstrap_admin("admin", "admin-password")
    assert admin is not None and admin.role == "admin"
    assert access.bootstrap_admin("admin2", "other-password") is None, "an admin exists"
    assert [u.username for u in await access.accounts.list_users()] == ["admin"]
    assert with_access(service, enabled=False).bootstrap_admin("x", "password-1") is None


def test_quota_periods_start_at_utc_midnight_and_the_first_of_the_month():
    now = datetime(2026, 3, 17, 15, 42, 7, 123, tzinfo=UTC)
    assert period_start("day", now) == datetime(2026, 3, 17, tzinfo=UTC)
    assert period_start("month", now) == datetime(2026, 3, 1, tzinfo=UTC)
    with pytest.raises(ValueError):
        period_start("week", now)


async def test_accounts_on_without_an_admin_or_its_password_refuse_to_start_and_say_what_to_set(tmp_path):
    url = f"sqlite:///{tmp_path / 'boot.db'}"
    run_migrations(url)
    accounts = AccountStore(make_engine(url))
    settings = Settings(auth_enabled=True, jwt_secret=None, admin_password=None, api_key=None)
    with pytest.raises(ConfigurationError) as refused:
        build_access(settings, accounts)
    assert "AGENTKIT_AUTH_ENABLED" in str(refused.value) and "set AGENTKIT_ADMIN_PASSWORD" in str(
        refused.value
    )
    assert await accounts.list_users() == []
    build_access(settings.model_copy(update={"admin_password": "admin-password"}), accounts)
    # once the database has its admin, the password may be unset again
    assert build_access(settings, accounts).enabled


async def test_accounts_on_without_a_secret_warn_and_still_work(tmp_path, caplog):
    url = f"sqlite:///{tmp_path / 'boot.db'}"
    run_migrations(url)
    accounts = AccountStore(make_engine(url))
    settings = Settings(auth_enabled=True, jwt_secret=None, admin_password="admin-password", api_key=None)
    with caplog.at_level(logging.WARNING):
        access = build_access(settings, accounts)
    assert "AGENTKIT_JWT_SECRET is unset" in caplog.text
    other = build_access(settings, accounts)
    token, admin = await other.authenticate("admin", "admin-password")
    assert admin.role == "admin" and (await other.principal_from_token(token)).role == "admin"
    with pytest.raises(Unauthorized):  # each random secret is its own: tokens die with the process
        await access.principal_from_token(token)
