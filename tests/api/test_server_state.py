"""A client's session metadata is its own: keys the server relies on, sent from outside, are not trusted."""

from __future__ import annotations

import time

API = "/api/v1/chat"
FORGED = {
    "team_run": {"run_id": "0123456789abcdef", "status": "running"},
    "active_leaf": "not-a-message",
    "title_source": "user",
    "pinned": True,
}


def test_forged_server_keys_in_metadata_are_kept_as_data_and_trusted_by_nothing(client):
    created = client.post(f"{API}/sessions", json={"agent_name": "assistant", "metadata": FORGED})
    assert created.status_code == 201
    session = created.json()
    sid = session["session_id"]
    assert session["metadata"] == FORGED, "the client's metadata is kept as it was given"
    assert session["server_state"] == {}, "and none of it became server state"

    # a forged team run is no run: nothing to resume, and a message is a new turn, not an intervention
    assert client.post(f"{API}/sessions/{sid}/team/resume").status_code == 404
    answer = client.post(f"{API}/sessions/{sid}/messages", json={"content": "what is 6 * 7?"})
    assert answer.status_code == 200 and "42" in answer.json()["content"]

    # a forged active branch does not hide the conversation from its history
    history = client.get(f"{API}/sessions/{sid}/messages").json()
    assert [m["role"] for m in history] == ["user", "assistant"]

    # a forged "the user named it" does not stop the model from titling the new conversation
    deadline = time.monotonic() + 10
    while (state := client.get(f"{API}/sessions/{sid}").json()["server_state"]).get(
        "title_source"
    ) != "model":
        assert time.monotonic() < deadline, f"never titled by the model: {state}"
        time.sleep(0.1)
    assert state["active_leaf"] == history[-1]["message_id"]
    assert "pinned" not in state

    # the session list does not pin it either
    listed = next(s for s in client.get(f"{API}/sessions").json() if s["session_id"] == sid)
    assert listed["metadata"]["pinned"] is True and not listed["server_state"].get("pinned")


def test_oversized_metadata_is_refused(client):
    huge = {"blob": "x" * 20_000}
    response = client.post(f"{API}/sessions", json={"agent_name": "assistant", "metadata": huge})
    assert response.status_code == 422 and "metadata" in response.json()["detail"]
