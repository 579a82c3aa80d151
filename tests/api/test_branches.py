"""Regenerate, edit-and-branch and branch switching over REST."""

from __future__ import annotations

API = "/api/v1/chat"


def _ask(client, sid: str, text: str) -> dict:
    response = client.post(f"{API}/sessions/{sid}/messages", json={"content": text}, timeout=60)
    assert response.status_code == 200, response.text
    return response.json()


def _texts(client, sid: str, **params) -> list[str]:
    return [m["content"] for m in client.get(f"{API}/sessions/{sid}/messages", params=params).json()]


def test_regenerate_keeps_the_old_answer_as_an_alternative(client, session_id):
    first = _ask(client, session_id, "hello there")
    again = client.post(f"{API}/sessions/{session_id}/regenerate", timeout=60)
    assert again.status_code == 200 and again.json()["message_id"] != first["message_id"]
    messages = client.get(f"{API}/sessions/{session_id}/messages").json()
    assert [m["role"] for m in messages] == ["user", "assistant"], "no second copy of the question"
    assert messages[1]["alternatives"] == [first["message_id"], again.json()["message_id"]]
    switched = client.post(
        f"{API}/sessions/{session_id}/branch", json={"message_id": first["message_id"]}
    ).json()
    assert switched[-1]["message_id"] == first["message_id"]
    assert len(client.get(f"{API}/sessions/{session_id}/messages", params={"branch": "all"}).json()) == 3


def test_edit_forks_the_conversation_and_the_old_branch_stays(client, session_id):
    _ask(client, session_id, "what is 2 + 2?")
    q2 = client.get(f"{API}/sessions/{session_id}/messages").json()
    _ask(client, session_id, "what is 3 + 3?")
    old_q = client.get(f"{API}/sessions/{session_id}/messages").json()[2]
    edited = client.post(
        f"{API}/sessions/{session_id}/messages/{old_q['message_id']}/edit",
        json={"content": "what is 5 + 5?"},
        timeout=60,
    )
    assert edited.status_code == 200 and "10" in edited.json()["content"]
    texts = _texts(client, session_id)
    assert (
        texts[:2] == [q2[0]["content"], q2[1]["content"]] and texts[2] == "what is 5 + 5?" and len(texts) == 4
    )
    client.post(f"{API}/sessions/{session_id}/branch", json={"message_id": old_q["message_id"]})
    assert _texts(client, session_id)[2] == "what is 3 + 3?" and "6" in _texts(client, session_id)[3]


def test_branch_requests_that_cannot_work(client, session_id):
    assert client.post(f"{API}/sessions/{session_id}/regenerate").status_code == 422  # nothing to regenerate
    answer = _ask(client, session_id, "hello")
    assert (
        client.post(
            f"{API}/sessions/{session_id}/messages/{answer['message_id']}/edit", json={"content": "x"}
        ).status_code
        == 422
    )
    assert (
        client.post(f"{API}/sessions/{session_id}/messages/nope/edit", json={"content": "x"}).status_code
        == 404
    )
    first_q = client.get(f"{API}/sessions/{session_id}/messages").json()[0]["message_id"]
    assert (
        client.post(
            f"{API}/sessions/{session_id}/messages/{first_q}/edit", json={"content": "  "}
        ).status_code
        == 422
    )
    assert client.post(f"{API}/sessions/{session_id}/branch", json={"message_id": "nope"}).status_code == 404
    assert client.get(f"{API}/sessions/{session_id}/messages", params={"branch": "odd"}).status_code == 422
    assert client.post(f"{API}/sessions/nope/regenerate").status_code == 404
