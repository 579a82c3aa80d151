"""The sidebar's date groups: today, yesterday, the previous week, older; a heading only where a group starts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from agentkit_app.store.models import SessionPublic
from agentkit_app.ui.states.prefs import reader_zone
from agentkit_app.ui.states.sessions import session_rows, when_label

NOW = datetime(2026, 11, 25, 15, 30).astimezone()


def _session(n: int, updated: datetime) -> SessionPublic:
    return SessionPublic(
        session_id=f"s{n}",
        agent_name="assistant",
        status="active",
        kind="chat",
        metadata={},
        created_at=updated,
        updated_at=updated,
        title=f"chat {n}",
    )


def test_rows_today_show_the_clock_and_older_rows_the_date():
    assert when_label(NOW - timedelta(hours=1), NOW) == ("group_today", "14:30")
    assert when_label(NOW - timedelta(days=1), NOW) == ("group_yesterday", "15:30")
    assert when_label(NOW - timedelta(days=3), NOW) == ("group_week", "11-22")
    assert when_label(NOW - timedelta(days=30), NOW) == ("group_older", "10-26")
    assert when_label(NOW - timedelta(days=400), NOW)[1] == "2025-10-21"


def test_a_clock_running_slightly_ahead_still_counts_as_today():
    assert when_label(NOW + timedelta(seconds=5), NOW)[0] == "group_today"


def test_only_the_first_row_of_each_group_carries_the_heading():
    ages = [
        timedelta(minutes=5),
        timedelta(hours=2),
        timedelta(days=1),
        timedelta(days=2),
        timedelta(days=3),
        timedelta(days=90),
    ]
    rows = session_rows([_session(i, NOW - age) for i, age in enumerate(ages)], NOW)
    assert [r.group for r in rows] == ["group_today", "", "group_yesterday", "group_week", "", "group_older"]
    assert [r.title for r in rows] == [f"chat {i}" for i in range(6)]


def test_an_untitled_session_is_named_after_its_agent():
    untitled = _session(1, NOW).model_copy(update={"title": ""})
    assert session_rows([untitled], NOW)[0].title == "assistant"


def test_archived_sessions_come_last_under_their_own_heading():
    open_old = _session(1, NOW - timedelta(days=20))
    closed_new = _session(2, NOW - timedelta(minutes=1)).model_copy(update={"status": "closed"})
    open_new = _session(3, NOW - timedelta(minutes=5))
    closed_old = _session(4, NOW - timedelta(days=40)).model_copy(update={"status": "closed"})
    rows = session_rows([closed_new, open_new, open_old, closed_old], NOW)
    assert [(r.title, r.group) for r in rows] == [
        ("chat 3", "group_today"),
        ("chat 1", "group_older"),
        ("chat 2", "group_archived"),
        ("chat 4", ""),
    ]


def test_pinned_sessions_come_first_and_archived_ones_are_never_pinned():
    pinned_old = _session(1, NOW - timedelta(days=30)).model_copy(update={"server_state": {"pinned": True}})
    fresh = _session(2, NOW - timedelta(minutes=2))
    archived_pinned = _session(3, NOW - timedelta(minutes=1)).model_copy(
        update={"server_state": {"pinned": True}, "status": "closed"}
    )
    rows = session_rows([archived_pinned, fresh, pinned_old], NOW)
    assert [(r.title, r.group, r.pinned) for r in rows] == [
        ("chat 1", "group_pinned", True),
        ("chat 2", "group_today", False),
        ("chat 3", "group_archived", False),
    ]


def test_the_groups_and_clock_follow_the_readers_time_zone():
    now = datetime(
        2026, 11, 25, 1, 0, tzinfo=UTC
    )  # 09:00 on the 25th in Shanghai, 20:00 on the 24th in New York
    late = datetime(
        2026, 11, 24, 17, 0, tzinfo=UTC
    )  # 01:00 on the 25th in Shanghai, 12:00 on the 24th in New York
    assert when_label(late, now, reader_zone("Asia/Shanghai")) == ("group_today", "01:00")
    assert when_label(late, now, reader_zone("America/New_York")) == ("group_today", "12:00")
    assert when_label(late, now, reader_zone("UTC")) == ("group_yesterday", "17:00")
    assert session_rows([_session(1, late)], now, zone=reader_zone("Asia/Shanghai"))[0].group == "group_today"


def test_a_time_zone_the_browser_could_not_have_sent_is_ignored():
    for name in ("", "Not/A_Zone", "../../etc/passwd", "/etc/localtime", "Asia/Shanghai\x00", "A" * 100):
        assert reader_zone(name) is None
    assert reader_zone("Europe/Paris") is not None
