"""Personal API tokens in the store, on SQLite and PostgreSQL: kept by hash, limited, found, used, revoked."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from agentkit_app.store.accounts import AccountStore
from agentkit_app.store.db import make_engine
from agentkit_app.store.tokens import ApiTokenStore, TooManyTokens, UnknownUser


@pytest.fixture
def stores(database_url: str) -> Iterator[tuple[AccountStore, ApiTokenStore]]:
    engine = make_engine(database_url)
    yield AccountStore(engine), ApiTokenStore(engine)
    engine.dispose()


def new_user(accounts: AccountStore) -> str:
    user = asyncio.run(accounts.create_user(username=f"u-{uuid.uuid4().hex[:8]}", password="password-1"))
    return user.user_id


def make(tokens: ApiTokenStore, user_id: str, *, name: str = "ci", most: int = 50, expires_at=None) -> str:
    token_id = uuid.uuid4().hex[:12]
    asyncio.run(
        tokens.create(
            token_id=token_id,
            token_hash=hash_of(token_id),
            user_id=user_id,
            name=name,
            expires_at=expires_at,
            most=most,
        )
    )
    return token_id


def hash_of(token_id: str) -> str:
    return f"hash-{token_id}".ljust(64, "0")


def test_a_token_is_listed_by_its_owner_without_its_hash_and_found_by_its_hash(stores):
    accounts, tokens = stores
    owner, other = new_user(accounts), new_user(accounts)
    token_id = make(tokens, owner, name="laptop")
    listed = asyncio.run(tokens.list(owner))
    assert [(t.token_id, t.name, t.prefix) for t in listed] == [(token_id, "laptop", f"ak_{token_id}")]
    assert "hash" not in listed[0].model_dump_json()
    assert listed[0].last_used_at is None and listed[0].created_at.tzinfo is not None
    assert asyncio.run(tokens.list(other)) == []
    holder = asyncio.run(tokens.find(hash_of(token_id)))
    assert holder is not None and holder.token_id == token_id and holder.standing.user.user_id == owner
    assert asyncio.run(tokens.find("0" * 64)) is None


def last_used(tokens: ApiTokenStore, token_id: str) -> datetime | None:
    return next(t.last_used_at for t in asyncio.run(tokens.list()) if t.token_id == token_id)


def test_last_use_is_written_at_most_once_a_minute(stores):
    accounts, tokens = stores
    token_id = make(tokens, new_user(accounts))
    start = datetime(2030, 1, 1, 12, tzinfo=UTC)
    for seconds in (0, 10, 59):
        asyncio.run(tokens.find(hash_of(token_id), start + timedelta(seconds=seconds)))
        assert last_used(tokens, token_id) == start
    asyncio.run(tokens.find(hash_of(token_id), start + timedelta(seconds=61)))
    assert last_used(tokens, token_id) == start + timedelta(seconds=61)


def test_an_expired_token_is_not_found_but_stays_listed_until_revoked(stores):
    accounts, tokens = stores
    owner = new_user(accounts)
    expires = datetime(2030, 1, 1, tzinfo=UTC)
    token_id = make(tokens, owner, expires_at=expires)
    assert asyncio.run(tokens.find(hash_of(token_id), expires - timedelta(seconds=1))) is not None
    assert asyncio.run(tokens.find(hash_of(token_id), expires)) is None
    assert [t.expires_at for t in asyncio.run(tokens.list(owner))] == [expires]


def test_only_the_owner_or_anyone_unrestricted_deletes_a_token(stores):
    accounts, tokens = stores
    owner, other = new_user(accounts), new_user(accounts)
    token_id = make(tokens, owner)
    assert asyncio.run(tokens.delete(token_id, other)) is False
    assert asyncio.run(tokens.find(hash_of(token_id))) is not None
    assert asyncio.run(tokens.delete(token_id, owner)) is True
    assert asyncio.run(tokens.find(hash_of(token_id))) is None
    assert asyncio.run(tokens.delete(token_id)) is False
    second = make(tokens, owner)
    assert asyncio.run(tokens.delete(second)) is True  # an admin's revocation names no owner


def test_a_user_holds_at_most_the_limit_even_when_creations_race(stores):
    accounts, tokens = stores
    owner = new_user(accounts)

    async def race() -> list[object]:
        async def one(i: int) -> object:
            return await tokens.create(
                token_id=f"race{i:08d}{uuid.uuid4().hex[:4]}"[:12],
                token_hash=uuid.uuid4().hex * 2,
                user_id=owner,
                name=f"t{i}",
                expires_at=None,
                most=3,
            )

        return await asyncio.gather(*(one(i) for i in range(6)), return_exceptions=True)

    results = asyncio.run(race())
    assert sum(isinstance(r, TooManyTokens) for r in results) == 3
    assert len(asyncio.run(tokens.list(owner))) == 3
    with pytest.raises(UnknownUser):
        make(tokens, "no-such-user")


def test_a_password_change_ends_the_users_tokens_and_disabling_shows_in_their_standing(stores):
    accounts, tokens = stores
    owner, bystander = new_user(accounts), new_user(accounts)
    kept, ended = make(tokens, bystander), make(tokens, owner)
    asyncio.run(accounts.update_user(owner, disabled=True))
    holder = asyncio.run(tokens.find(hash_of(ended)))
    assert holder is not None and holder.standing.user.disabled
    asyncio.run(accounts.update_user(owner, disabled=False, password="a-new-password"))
    assert asyncio.run(tokens.find(hash_of(ended))) is None
    assert asyncio.run(tokens.list(owner)) == []
    assert asyncio.run(tokens.find(hash_of(kept))) is not None
