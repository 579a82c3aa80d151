"""AccountStore on SQLite and PostgreSQL: users, passwords, departments, quotas, the usage ledger, session owners."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import secrets
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import inspect, update
from sqlmodel import Session

from agentkit_app.store.accounts import AccountConflict, AccountStore, UnknownDepartment
from agentkit_app.store.db import make_engine
from agentkit_app.store.models import QuotaPublic, UserRecord
from agentkit_app.store.passwords import hash_password, needs_rehash, verify_password
from agentkit_app.store.sessions import SessionManager


@pytest.fixture
def accounts(database_url: str) -> Iterator[AccountStore]:
    """An account store on the backend's database (shared by the PostgreSQL tests: names are unique)."""
    engine = make_engine(database_url)
    yield AccountStore(engine)
    engine.dispose()


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def scrypt_hash(password: str) -> str:
    """Return a hash in the scrypt format that earlier versions stored (N=2^14, r=8, p=1)."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)
    return f"scrypt$16384$8$1${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def stored_hash(accounts: AccountStore, user_id: str) -> str:
    with Session(accounts.engine) as db:
        return db.get(UserRecord, user_id).password_hash


def store_hash(accounts: AccountStore, user_id: str, password_hash: str) -> None:
    """Put a hash in a user's row as an older version of the app would have written it."""
    with Session(accounts.engine) as db:
        db.exec(update(UserRecord).where(UserRecord.user_id == user_id).values(password_hash=password_hash))
        db.commit()


def test_password_hashes_are_salted_argon2id_at_owasp_strength_and_checked_exactly():
    first, second = hash_password("correct horse"), hash_password("correct horse")
    assert first != second and first.startswith("$argon2id$v=19$") and "correct" not in first
    params = dict(kv.split("=") for kv in first.split("$")[3].split(","))
    assert int(params["m"]) >= 19 * 1024 and int(params["t"]) >= 2 and int(params["p"]) >= 1
    assert verify_password("correct horse", first) and verify_password("correct horse", second)
    assert not verify_password("correct horsE", first)
    assert not needs_rehash(first)
    for garbage in ("not-a-hash", "bcrypt$1$2$3$AAAA$AAAA", "$argon2id$v=19$m=19456,t=2,p=1$broken", ""):
        assert not verify_password("correct horse", garbage)


def test_legacy_scrypt_hashes_still_verify_and_ask_to_be_replaced():
    legacy = scrypt_hash("old secret 1")
    assert verify_password("old secret 1", legacy) and not verify_password("old secret 2", legacy)
    assert needs_rehash(legacy)
    assert not verify_password("old secret 1", legacy[:-8] + "AAAAAAA=")
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash("old secret 1")
    assert verify_password("old secret 1", weak) and needs_rehash(weak)


async def test_users_are_created_read_and_listed(accounts: AccountStore):
    department = await accounts.create_department(unique("Sales"))
    name = unique("alice")
    alice = await accounts.create_user(
        username=name, password="pw-alice-1", department_id=department.department_id
    )
    assert (alice.username, alice.role, alice.department_id, alice.disabled) == (
        name,
        "user",
        department.department_id,
        False,
    )
    assert alice.created_at.tzinfo is not None
    assert await accounts.get_user(alice.user_id) == alice
    assert await accounts.get_user("nobody") is None
    boss = await accounts.create_user(username=unique("boss"), password="pw-boss-1", role="admin")
    listed = {u.user_id: u for u in await accounts.list_users()}
    assert listed[alice.user_id] == alice and listed[boss.user_id].role == "admin"
    assert "password" not in alice.model_dump_json() and "scrypt" not in alice.model_dump_json()


async def test_user_creation_refuses_taken_names_unknown_departments_and_roles(accounts: AccountStore):
    name = unique("bob")
    await accounts.create_user(username=name, password="pw-bob-123")
    with pytest.raises(AccountConflict):
        await accounts.create_user(username=name, password="other-password")
    with pytest.raises(UnknownDepartment):
        await accounts.create_user(
            username=unique("carol"), password="pw-carol-1", department_id="no-such-department"
        )
    with pytest.raises(ValueError, match="role"):
        await accounts.create_user(username=unique("dave"), password="pw-dave-12", role="root")


async def test_concurrent_creation_of_one_name_makes_one_user(accounts: AccountStore):
    name = unique("twin")
    results = await asyncio.gather(
        *(accounts.create_user(username=name, password=f"pw-{i}-xxxx") for i in range(4)),
        return_exceptions=True,
    )
    assert sum(not isinstance(r, Exception) for r in results) == 1
    assert all(isinstance(r, AccountConflict) for r in results if isinstance(r, Exception))


async def test_password_check_needs_the_right_password_and_an_enabled_account(accounts: AccountStore):
    name = unique("erin")
    erin = await accounts.create_user(username=name, password="s3cret-pass")
    assert stored_hash(accounts, erin.user_id).startswith("$argon2id$")
    assert (await accounts.check_password(name, "s3cret-pass")).user == erin
    assert await accounts.check_password(name, "wrong-pass") is None
    assert await accounts.check_password(unique("ghost"), "s3cret-pass") is None
    await accounts.update_user(erin.user_id, disabled=True)
    assert await accounts.check_password(name, "s3cret-pass") is None
    await accounts.update_user(erin.user_id, disabled=False, password="new-pass-99")
    assert await accounts.check_password(name, "s3cret-pass") is None
    assert (await accounts.check_password(name, "new-pass-99")).user.user_id == erin.user_id


async def test_a_legacy_scrypt_hash_signs_in_and_is_replaced_by_argon2id(accounts: AccountStore):
    name = unique("olga")
    olga = await accounts.create_user(username=name, password="placeholder-1")
    legacy = scrypt_hash("from-2023-pass")
    store_hash(accounts, olga.user_id, legacy)
    assert await accounts.check_password(name, "from-2023-passX") is None
    assert stored_hash(accounts, olga.user_id) == legacy, "a wrong password upgrades nothing"
    assert (await accounts.check_password(name, "from-2023-pass")).user.user_id == olga.user_id
    upgraded = stored_hash(accounts, olga.user_id)
    assert upgraded.startswith("$argon2id$") and verify_password("from-2023-pass", upgraded)
    assert (await accounts.check_password(name, "from-2023-pass")) is not None
    assert stored_hash(accounts, olga.user_id) == upgraded, "an up-to-date hash stays as it is"
    assert await accounts.check_password(name, "from-2023-passX") is None


async def test_a_weak_argon2_hash_is_rehashed_with_the_current_parameters(accounts: AccountStore):
    name = unique("pete")
    pete = await accounts.create_user(username=name, password="placeholder-1")
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash("pete-pass-1")
    store_hash(accounts, pete.user_id, weak)
    assert await accounts.check_password(name, "pete-pass-1") is not None
    assert not needs_rehash(stored_hash(accounts, pete.user_id))


async def test_a_password_change_raises_the_token_version(accounts: AccountStore):
    quinn = await accounts.create_user(username=unique("quinn"), password="quinn-pass-1")
    assert (await accounts.get_standing(quinn.user_id)).token_version == 0
    await accounts.update_user(quinn.user_id, role="admin", disabled=False)
    assert (await accounts.get_standing(quinn.user_id)).token_version == 0, "only a password change counts"
    await accounts.update_user(quinn.user_id, password="quinn-pass-2")
    await accounts.update_user(quinn.user_id, password="quinn-pass-2")
    standing = await accounts.get_standing(quinn.user_id)
    assert standing.token_version == 2 and "token_version" not in standing.user.model_dump()
    assert await accounts.get_standing("nobody") is None


async def test_a_departments_shell_switch_reaches_its_users_standing(accounts: AccountStore):
    department = await accounts.create_department(unique("Eng"))
    assert department.shell_enabled is False
    user = await accounts.create_user(
        username=unique("rita"), password="rita-pass-1", department_id=department.department_id
    )
    loner = await accounts.create_user(username=unique("sam"), password="sam-pass-12")
    assert not (await accounts.get_standing(user.user_id)).department_shell
    turned_on = await accounts.update_department(department.department_id, shell_enabled=True)
    assert turned_on.shell_enabled and (await accounts.get_department(department.department_id)).shell_enabled
    assert (await accounts.get_standing(user.user_id)).department_shell
    assert not (await accounts.get_standing(loner.user_id)).department_shell
    await accounts.update_department(department.department_id, shell_enabled=False)
    assert not (await accounts.get_standing(user.user_id)).department_shell
    assert await accounts.update_department("missing", shell_enabled=True) is None
    born_on = await accounts.create_department(unique("Ops"), shell_enabled=True)
    assert born_on in await accounts.list_departments() and born_on.shell_enabled


async def test_user_updates_change_role_and_department(accounts: AccountStore):
    first = await accounts.create_department(unique("Ops"))
    second = await accounts.create_department(unique("Legal"))
    user = await accounts.create_user(
        username=unique("fay"), password="pw-fay-123", department_id=first.department_id
    )
    moved = await accounts.update_user(user.user_id, department_id=second.department_id, role="admin")
    assert (moved.department_id, moved.role) == (second.department_id, "admin")
    cleared = await accounts.update_user(user.user_id, clear_department=True)
    assert cleared.department_id is None
    assert await accounts.update_user("nobody", disabled=True) is None
    with pytest.raises(UnknownDepartment):
        await accounts.update_user(user.user_id, department_id="missing")


async def test_an_admin_exists_once_created_and_while_enabled(accounts: AccountStore):
    for user in await accounts.list_users():  # the PostgreSQL database is shared: retire other tests' admins
        if user.role == "admin":
            await accounts.update_user(user.user_id, disabled=True)
    assert not accounts.has_admin_now()
    admin = accounts.create_user_now(username=unique("root"), password="pw-root-1", role="admin")
    assert accounts.has_admin_now()
    await accounts.update_user(admin.user_id, disabled=True)
    assert not accounts.has_admin_now()


async def test_departments_have_unique_names(accounts: AccountStore):
    name = unique("Research")
    research = await accounts.create_department(name)
    assert await accounts.get_department(research.department_id) == research
    assert await accounts.get_department("missing") is None
    with pytest.raises(AccountConflict):
        await accounts.create_department(name)
    assert research in await accounts.list_departments()


async def test_quotas_are_replaced_as_a_set(accounts: AccountStore):
    department = (await accounts.create_department(unique("Support"))).department_id
    assert await accounts.get_quotas(department) == []
    quotas = [
        QuotaPublic(quota_type="tokens", period="month", limit=100_000),
        QuotaPublic(quota_type="requests", period="day", limit=20),
    ]
    assert await accounts.set_quotas(department, quotas) == quotas
    assert await accounts.get_quotas(department) == quotas
    await accounts.set_quotas(department, [QuotaPublic(quota_type="requests", period="day", limit=5)])
    assert await accounts.get_quotas(department) == [
        QuotaPublic(quota_type="requests", period="day", limit=5)
    ]
    with pytest.raises(ValueError, match="one quota per type and period"):
        await accounts.set_quotas(department, [quotas[1], quotas[1]])
    assert len(await accounts.get_quotas(department)) == 1, "a refused replacement changes nothing"
    with pytest.raises(UnknownDepartment):
        await accounts.set_quotas("missing", quotas)
    await accounts.set_quotas(department, [])
    assert await accounts.get_quotas(department) == []


async def test_usage_sums_count_a_department_since_a_moment(accounts: AccountStore):
    department = (await accounts.create_department(unique("Finance"))).department_id
    other = (await accounts.create_department(unique("Marketing"))).department_id
    now = datetime.now(UTC).replace(microsecond=0)
    month_start = now.replace(day=1, hour=0, minute=0, second=0)
    day_start = now.replace(hour=0, minute=0, second=0)
    rows = [
        (department, day_start + timedelta(minutes=1), 100, 50),  # today
        (department, now, 10, 5),  # today
        (department, day_start - timedelta(seconds=1), 1000, 500),  # before today (maybe last month)
        (department, month_start - timedelta(days=2), 7000, 7000),  # last month
        (other, now, 99_999, 99_999),  # another department
    ]
    for dept, when, prompt, completion in rows:
        await accounts.record_usage(
            session_id="s1", user_id="u1", department_id=dept, model="m", tier="main",
            prompt_tokens=prompt, completion_tokens=completion, created_at=when,
        )  # fmt: skip
    today = await accounts.usage_since(department, day_start)
    assert (today.requests, today.prompt_tokens, today.completion_tokens, today.total_tokens) == (
        2,
        110,
        55,
        165,
    )
    this_month = await accounts.usage_since(department, month_start)
    earlier_this_month = day_start - timedelta(seconds=1) >= month_start
    assert this_month.requests == (3 if earlier_this_month else 2)
    assert this_month.total_tokens == (1665 if earlier_this_month else 165)
    everything = await accounts.usage_since(department, month_start - timedelta(days=40))
    assert (everything.requests, everything.total_tokens) == (4, 15_665)
    nothing = await accounts.usage_since(unique("none"), month_start)
    assert (nothing.requests, nothing.total_tokens) == (0, 0)


def test_concurrent_reservations_in_several_processes_never_pass_the_limit(database_url: str):
    accounts = AccountStore(make_engine(database_url))
    department = asyncio.run(accounts.create_department(unique("Ops"))).department_id
    start_at = time.time() + 2.0  # every worker is connected by then and they all ask at once
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.store.reserve_worker",
                database_url,
                department,
                "6",
                "5",
                str(start_at),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    admitted = [int(w.communicate(timeout=60)[0].strip()) for w in workers]
    assert all(w.returncode == 0 for w in workers)
    assert sum(admitted) == 5, f"18 requests for 5 places, admitted per worker: {admitted}"
    assert asyncio.run(accounts.usage_since(department, datetime(2000, 1, 1, tzinfo=UTC))).requests == 5


async def test_a_reserved_row_is_settled_with_its_tokens_or_released(accounts: AccountStore):
    department = (await accounts.create_department(unique("Legal"))).department_id
    since = {"day": datetime(2000, 1, 1, tzinfo=UTC)}
    seen = []
    first = await accounts.reserve_request(
        department_id=department, user_id="u1", session_id="s-res", periods=since, admit=seen.append
    )
    second = await accounts.reserve_request(
        department_id=department, user_id="u1", session_id="s-res", periods=since, admit=seen.append
    )
    assert [t["day"].requests for t in seen] == [0, 1], "the first reservation counts at once"
    assert await accounts.settle_usage(first, model="m1", tier="main", prompt_tokens=30, completion_tokens=12)
    await accounts.release(second)
    (row,) = await accounts.usage_of_session("s-res")
    assert (row.id, row.model, row.tier, row.prompt_tokens, row.completion_tokens) == (
        first,
        "m1",
        "main",
        30,
        12,
    )
    assert not await accounts.settle_usage(second, model="m", tier=None, prompt_tokens=1, completion_tokens=1)
    with pytest.raises(UnknownDepartment):
        await accounts.reserve_request(
            department_id="no-such-department", user_id=None, session_id="s", periods={}, admit=seen.append
        )


async def test_a_refused_reservation_leaves_no_row(accounts: AccountStore):
    department = (await accounts.create_department(unique("Sales"))).department_id

    def refuse(totals) -> None:
        raise RuntimeError("over")

    with pytest.raises(RuntimeError):
        await accounts.reserve_request(
            department_id=department,
            user_id=None,
            session_id="s-ref",
            periods={"day": datetime(2000, 1, 1, tzinfo=UTC)},
            admit=refuse,
        )
    assert await accounts.usage_of_session("s-ref") == []


async def test_usage_rows_keep_who_where_and_which_model(accounts: AccountStore):
    session_id = unique("session")
    await accounts.record_usage(
        session_id=session_id, model="gpt-x", tier="recovery", prompt_tokens=3, completion_tokens=4
    )
    await accounts.record_usage(
        session_id=session_id, user_id="u9", department_id="d9", model="gpt-y", prompt_tokens=-1
    )
    first, second = await accounts.usage_of_session(session_id)
    assert (first.user_id, first.department_id, first.model, first.tier, first.prompt_tokens, first.completion_tokens) == (
        None, None, "gpt-x", "recovery", 3, 4,
    )  # fmt: skip
    assert (second.user_id, second.department_id, second.prompt_tokens) == ("u9", "d9", 0)
    assert first.created_at <= second.created_at


async def test_sessions_have_owners_and_lists_filter_by_them(manager: SessionManager):
    mine = await manager.create_session(agent_name="assistant", user_id="user-a")
    theirs = await manager.create_session(agent_name="assistant", user_id="user-b")
    nobodys = await manager.create_session(agent_name="assistant")
    assert (mine.user_id, theirs.user_id, nobodys.user_id) == ("user-a", "user-b", None)
    assert (await manager.get_session(mine.session_id)).user_id == "user-a"
    assert [s.session_id for s in await manager.list_sessions(user_id="user-a")] == [mine.session_id]
    assert {s.session_id for s in await manager.list_sessions()} == {
        mine.session_id,
        theirs.session_id,
        nobodys.session_id,
    }


def test_the_migration_creates_the_account_tables(database_url: str):
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            inspector = inspect(conn)
            assert {"users", "departments", "quotas", "usage_records"} <= set(inspector.get_table_names())
            assert "user_id" in {c["name"] for c in inspector.get_columns("sessions")}
            indexes = {i["name"]: i["column_names"] for i in inspector.get_indexes("usage_records")}
            assert indexes["ix_usage_records_department_created"] == ["department_id", "created_at"]
    finally:
        engine.dispose()
