"""Exporting sessions as Markdown and JSON over REST."""

from __future__ import annotations

import json

API = "/api/v1/chat"


def _session(client, text: str) -> str:
    sid = client.post(f"{API}/sessions", json={"agent_name": "assistant"}).json()["session_id"]
    assert (
        client.post(f"{API}/sessions/{sid}/messages", json={"content": text}, timeout=60).status_code == 200
    )
    return sid


def test_board_export_names_every_speaker_in_both_formats(client):
    sid = _session(client, "@board:Strategist,Investor,Risk Officer rounds=2 open a second shop")
    md = client.get(f"{API}/sessions/{sid}/export", params={"format": "md"})
    assert md.status_code == 200 and md.headers["content-type"].startswith("text/markdown")
    assert "attachment" in md.headers["content-disposition"] and ".md" in md.headers["content-disposition"]
    for name in ("Strategist", "Investor", "Risk Officer"):
        assert f"**{name}**" in md.text
    assert "### Round 2" in md.text and "Decision advice" in md.text
    doc = client.get(f"{API}/sessions/{sid}/export", params={"format": "json"}).json()
    board = doc["board"]
    assert board["topic"] == "open a second shop"
    assert [len(r["speeches"]) for r in board["rounds"]] == [3, 3]
    assert all(r["summary"] for r in board["rounds"])
    assert board["conclusion"]["consensus_points"]
    assert doc["messages"][0] == {
        **doc["messages"][0],
        "role": "user",
        "content": "@board open a second shop",
    }


def test_team_export_keeps_phases_and_synthesis(client):
    sid = _session(client, "@team write a release note")
    doc = json.loads(client.get(f"{API}/sessions/{sid}/export", params={"format": "json"}).text)
    team = doc["team"]
    assert team["lead"] == "Tech Lead"
    assert [p["status"] for p in team["phases"]] == ["completed"] * len(team["phases"]) and team["phases"]
    assert all(p["result"] for p in team["phases"]) and "Team result" in team["synthesis"]
    md = client.get(f"{API}/sessions/{sid}/export").text
    assert "## Team run (lead: Tech Lead)" in md and "### Synthesis" in md


def test_chat_export_and_bad_requests(client):
    sid = _session(client, "what is 6 * 7?")
    md = client.get(f"{API}/sessions/{sid}/export").text
    assert "**User:** what is 6 * 7?" in md and "42" in md
    assert client.get(f"{API}/sessions/{sid}/export", params={"format": "pdf"}).status_code == 422
    assert client.get(f"{API}/sessions/nope/export").status_code == 404


def test_search_links_to_the_matching_message(client):
    sid = _session(client, "remember the word zanzibar please")
    hits = client.get(f"{API}/search", params={"q": "zanzibar"}).json()
    assert hits and hits[0]["session_id"] == sid and "zanzibar" in hits[0]["snippet"]
    messages = client.get(f"{API}/sessions/{sid}/messages").json()
    assert hits[-1]["message_id"] in {m["message_id"] for m in messages}
    assert client.get(f"{API}/search", params={"q": ""}).status_code == 422
    assert client.get(f"{API}/search", params={"q": "x" * 201}).status_code == 422


def test_rename_session(client):
    sid = _session(client, "hello")
    renamed = client.patch(f"{API}/sessions/{sid}", json={"title": "  Trip   planning "})
    assert renamed.status_code == 200 and renamed.json()["title"] == "Trip planning"
    assert client.get(f"{API}/sessions/{sid}").json()["title"] == "Trip planning"
    assert client.patch(f"{API}/sessions/{sid}", json={"title": "   "}).status_code == 422
    assert client.patch(f"{API}/sessions/{sid}", json={}).status_code == 422
    assert client.patch(f"{API}/sessions/nope", json={"title": "x"}).status_code == 404


def test_pin_a_session_without_moving_it_in_time(client):
    sid = _session(client, "hello")
    before = client.get(f"{API}/sessions/{sid}").json()
    pinned = client.patch(f"{API}/sessions/{sid}", json={"pinned": True})
    assert pinned.status_code == 200 and pinned.json()["server_state"]["pinned"] is True
    assert pinned.json()["updated_at"] == before["updated_at"], "pinning is not activity"
    assert pinned.json()["title"] == before["title"]
    both = client.patch(f"{API}/sessions/{sid}", json={"pinned": False, "title": "Renamed"}).json()
    assert both["server_state"]["pinned"] is False and both["title"] == "Renamed"
    assert client.patch(f"{API}/sessions/{sid}", json={"pinned": "maybe"}).status_code == 422


def test_restore_an_archived_session(client):
    sid = _session(client, "hello")
    client.delete(f"{API}/sessions/{sid}")
    assert client.post(f"{API}/sessions/{sid}/messages", json={"content": "still there?"}).status_code == 400
    restored = client.patch(f"{API}/sessions/{sid}", json={"status": "active"})
    assert restored.status_code == 200 and restored.json()["status"] == "active"
    assert client.post(f"{API}/sessions/{sid}/messages", json={"content": "still there?"}).status_code == 200
    assert client.patch(f"{API}/sessions/{sid}", json={"status": "closed"}).status_code == 422, (
        "DELETE closes"
    )
