"""Sign-in throttling as a password guesser meets it: per user name, per address, across processes (Redis)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import pytest
import redis

from agentkit_app.service.access import AccessControl
from agentkit_app.service.errors import Unauthorized
from agentkit_app.service.throttle import SignInThrottle, SignInThrottled, ThrottleUnavailable
from agentkit_app.store.accounts import AccountStore
from agentkit_app.store.db import make_engine, run_migrations
from agentkit_app.ui.i18n import error_text
from tests.store.test_accounts import scrypt_hash, store_hash, stored_hash

REDIS_URL = "redis://127.0.0.1:6379/0"
SECRET = "throttle-secret-0123456789-0123456789-abcd"
PASSWORD = "right-password-1"


@pytest.fixture
def accounts(tmp_path) -> Iterator[AccountStore]:
    """An account store on a new SQLite database."""
    url = f"sqlite:///{tmp_path / 'accounts.db'}"
    run_migrations(url)
    engine = make_engine(url)
    yield AccountStore(engine)
    engine.dispose()


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A key prefix of this test alone in the local Redis; its keys are removed afterwards."""
    prefix = f"agentkit-throttle-test-{uuid.uuid4().hex[:10]}"
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.fail(f"Redis at 127.0.0.1:6379 unreachable: {exc}")
    yield prefix
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)
    client.close()


def access_with(accounts: AccountStore, throttle: SignInThrottle | None = None) -> AccessControl:
    return AccessControl(accounts, enabled=True, jwt_secret=SECRET, throttle=throttle)


async def fail(access: AccessControl, username: str, address: str, times: int) -> None:
    for _ in range(times):
        with pytest.raises(Unauthorized):
            await access.authenticate(username, "wrong-guess", address)


async def test_the_sixth_guess_in_a_minute_is_refused_even_with_the_right_password(accounts):
    access = access_with(accounts)
    await accounts.create_user(username="victim", password=PASSWORD)
    await fail(access, "victim", "10.0.0.1", 5)
    with pytest.raises(SignInThrottled) as refused:
        await access.authenticate("victim", PASSWORD, "10.0.0.1")
    assert refused.value.status == 429 and 1 <= refused.value.retry_after <= 60
    assert refused.value.key == "login_throttled" and refused.value.params == {"n": refused.value.retry_after}
    # the same user name from elsewhere is refused too: the guesser may hold many addresses
    with pytest.raises(SignInThrottled):
        await access.authenticate("victim", PASSWORD, "10.9.9.9")
    # other users are untouched, from other addresses
    await accounts.create_user(username="bystander", password=PASSWORD)
    assert (await access.authenticate("bystander", PASSWORD, "10.0.0.2"))[1].username == "bystander"


async def test_a_refused_sign_in_does_not_check_the_password(accounts):
    """A legacy hash is replaced whenever its password is checked and right, so an unchanged one was not checked."""
    access = access_with(accounts)
    user = await accounts.create_user(username="legacy", password=PASSWORD)
    await fail(access, "legacy", "10.0.1.1", 5)
    legacy = scrypt_hash(PASSWORD)
    store_hash(accounts, user.user_id, legacy)
    for _ in range(3):
        with pytest.raises(SignInThrottled):
            await access.authenticate("legacy", PASSWORD, "10.0.1.1")
    assert stored_hash(accounts, user.user_id) == legacy
    unthrottled = access_with(accounts)
    assert (await unthrottled.authenticate("legacy", PASSWORD, "10.0.1.1"))[1].user_id == user.user_id
    assert stored_hash(accounts, user.user_id).startswith("$argon2id$"), (
        "a checked password upgrades the hash"
    )


async def test_one_address_trying_many_user_names_is_limited_per_address(accounts):
    access = access_with(accounts)
    await accounts.create_user(username="target", password=PASSWORD)
    for name in ("ann", "bob", "cid", "dan", "eve"):
        await fail(access, name, "203.0.113.7", 1)
    with pytest.raises(SignInThrottled):
        await access.authenticate("target", PASSWORD, "203.0.113.7")
    assert (await access.authenticate("target", PASSWORD, "198.51.100.1"))[1].username == "target"


async def test_successful_sign_ins_are_not_counted_and_clear_no_ones_failures(accounts):
    access = access_with(accounts)
    await accounts.create_user(username="regular", password=PASSWORD)
    for _ in range(8):
        await access.authenticate("regular", PASSWORD, "10.1.1.1")
    await fail(access, "someone", "10.1.1.1", 4)
    await access.authenticate("regular", PASSWORD, "10.1.1.1")
    await fail(access, "someone", "10.1.1.1", 1)
    with pytest.raises(SignInThrottled):
        await access.authenticate("regular", PASSWORD, "10.1.1.1")


async def test_parallel_guesses_cannot_slip_past_the_limit(accounts):
    access = access_with(accounts)
    await accounts.create_user(username="burst", password=PASSWORD)
    results = await asyncio.gather(
        *(access.authenticate("burst", f"guess-{i}", f"10.2.0.{i}") for i in range(30)),
        return_exceptions=True,
    )
    assert sum(isinstance(r, Unauthorized) for r in results) == 5, "five passwords were checked, no more"
    assert sum(isinstance(r, SignInThrottled) for r in results) == 25


async def test_the_limit_lifts_when_its_window_ends(accounts):
    access = access_with(accounts, SignInThrottle(per_username="2/second", per_address="50/minute"))
    await accounts.create_user(username="patient", password=PASSWORD)
    await fail(access, "patient", "10.3.0.1", 2)
    with pytest.raises(SignInThrottled) as refused:
        await access.authenticate("patient", PASSWORD, "10.3.0.1")
    assert refused.value.retry_after == 1
    await asyncio.sleep(1.1)
    assert (await access.authenticate("patient", PASSWORD, "10.3.0.1"))[1].username == "patient"


async def test_workers_sharing_redis_share_the_count(accounts, redis_prefix):
    """Two workers (two AccessControl, two Redis clients) see one budget of guesses between them."""
    first = access_with(accounts, SignInThrottle.for_deployment(REDIS_URL, redis_prefix))
    second = access_with(accounts, SignInThrottle.for_deployment(REDIS_URL, redis_prefix))
    await accounts.create_user(username="shared", password=PASSWORD)
    await fail(first, "shared", "10.4.0.1", 3)
    await fail(second, "shared", "10.4.0.2", 2)
    for worker in (first, second):
        with pytest.raises(SignInThrottled):
            await worker.authenticate("shared", PASSWORD, "10.4.0.3")
    keys = redis.Redis.from_url(REDIS_URL).keys(f"{redis_prefix}:signin:*")
    assert keys and not any(b"shared" in key for key in keys), "user names are not written out in Redis"
    # a deployment with another prefix counts on its own
    elsewhere = access_with(accounts, SignInThrottle.for_deployment(REDIS_URL, f"{redis_prefix}-other"))
    assert (await elsewhere.authenticate("shared", PASSWORD, "10.4.0.3"))[1].username == "shared"


async def test_sign_in_is_refused_when_the_redis_count_cannot_be_kept(accounts):
    access = access_with(accounts, SignInThrottle.for_deployment("redis://127.0.0.1:1/0", "agentkit"))
    await accounts.create_user(username="unlucky", password=PASSWORD)
    with pytest.raises(ThrottleUnavailable) as refused:
        await access.authenticate("unlucky", PASSWORD, "10.5.0.1")
    assert refused.value.status == 503


def test_the_refusal_tells_the_web_user_when_to_try_again_in_their_language():
    refused = SignInThrottled(42)
    assert error_text(refused, "en") == "Too many attempts. Try again in 42 s."
    assert error_text(refused, "zh") == "尝试次数过多，请 42 秒后再试。"
    unavailable = ThrottleUnavailable("down", "login_unavailable")
    assert "Try again later" in error_text(unavailable, "en")
