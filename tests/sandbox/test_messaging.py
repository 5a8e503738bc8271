"""Conversations and messages over HTTP: employer first, paging both ways, events, and the armed refusals."""

from __future__ import annotations

import httpx
import pytest

from tests.sandbox.support import PUBLIC, app_token, bearer, open_job


@pytest.fixture
def http(sandbox_url):
    with httpx.Client(base_url=sandbox_url, timeout=10) as client:
        yield client


def opened(http: httpx.Client) -> tuple[dict, str]:
    token = app_token(http)
    job_id = open_job(http, token)
    [proposal] = http.post(f"/_sandbox/jobs/{job_id}/proposals", json={"count": 1}).json()["proposals"]
    conversation = http.post(f"{PUBLIC}/proposals/{proposal['id']}/conversation", headers=bearer(token)).json()
    return bearer(token), conversation["conversationId"]


def send(http: httpx.Client, auth: dict, conversation_id: str, content: str) -> httpx.Response:
    return http.post(f"{PUBLIC}/messages", headers=auth, json={"conversationId": conversation_id, "content": content})


def reply(http: httpx.Client, conversation_id: str, content: str, attachments: int = 0) -> httpx.Response:
    return http.post(f"/_sandbox/conversations/{conversation_id}/reply",
                     json={"content": content, "attachments": attachments})


def test_employer_first_then_both_ways_with_events_and_tailing(http):
    auth, conversation = opened(http)
    refused = reply(http, conversation, "hello?")
    assert refused.status_code == 403 and refused.json()["details"]["reason"] == "employer_first_message_required"

    sent = send(http, auth, conversation, "Hi Maria, can you start Monday?")
    assert sent.status_code == 201
    assert sent.json()["message"]["isFromViewer"] is True
    first = reply(http, conversation, "Yes!", attachments=2).json()["message"]
    second = reply(http, conversation, "What tool do you use?").json()["message"]
    assert first["isFromViewer"] is False and first["attachmentCount"] == 2

    events = http.get(f"{PUBLIC}/updates", headers=auth).json()["events"]
    received = [e for e in events if e["type"] == "message.received"]
    assert [e["data"] for e in received] == [{"conversationId": conversation, "messageId": first["id"]},
                                             {"conversationId": conversation, "messageId": second["id"]}]

    page = http.get(f"{PUBLIC}/messages", headers=auth,
                    params={"conversationId": conversation, "direction": "newer", "limit": 2}).json()
    assert [m["content"] for m in page["messages"]] == ["Hi Maria, can you start Monday?", "Yes!"]
    assert page["nextCursor"] == first["id"]
    rest = http.get(f"{PUBLIC}/messages", headers=auth, params={
        "conversationId": conversation, "direction": "newer", "cursor": page["nextCursor"]}).json()
    assert [m["id"] for m in rest["messages"]] == [second["id"]] and rest["nextCursor"] is None
    tail = http.get(f"{PUBLIC}/messages", headers=auth, params={
        "conversationId": conversation, "direction": "newer", "cursor": second["id"]}).json()
    assert tail == {"messages": [], "nextCursor": None}
    newest = http.get(f"{PUBLIC}/messages", headers=auth, params={"conversationId": conversation}).json()
    assert newest["messages"][0]["id"] == second["id"]  # older (default): newest first


def test_content_limits_and_armed_refusals(http):
    auth, conversation = opened(http)
    assert send(http, auth, conversation, "").status_code == 400
    assert send(http, auth, conversation, "x" * 10_001).status_code == 400
    assert send(http, auth, conversation, "x" * 10_000).status_code == 201

    control = f"/_sandbox/conversations/{conversation}/next-send"
    http.post(control, json={"refusal": "policy_blocked"}).raise_for_status()
    http.post(control, json={"refusal": "rate_limited", "retryAfterSeconds": 7}).raise_for_status()
    http.post(control, json={"refusal": "employer_first"}).raise_for_status()
    blocked = send(http, auth, conversation, "call me at 555-0100")
    assert blocked.status_code == 403 and blocked.json()["details"]["reason"] == "message_policy_blocked"
    limited = send(http, auth, conversation, "hello")
    assert limited.status_code == 429 and limited.json()["details"]["retryAfterSeconds"] == 7
    assert limited.headers["Retry-After"] == "7"
    first = send(http, auth, conversation, "hello")
    assert first.status_code == 409 and first.json()["details"]["reason"] == "employer_first_message_required"
    assert send(http, auth, conversation, "hello").status_code == 201

    http.post(control, json={"refusal": "read_only"}).raise_for_status()
    for _ in range(2):
        read_only = send(http, auth, conversation, "still there?")
        assert read_only.status_code == 409 and read_only.json()["details"]["reason"] == "read_only_conversation"


def test_strangers_cannot_read_or_write(http):
    _, conversation = opened(http)
    other = bearer(app_token(http))
    assert send(http, other, conversation, "hi").status_code == 403
    assert http.get(f"{PUBLIC}/messages", headers=other, params={"conversationId": conversation}).status_code == 403
    assert send(http, other, "conv_unknown", "hi").status_code == 404


def test_a_send_can_take_effect_and_lose_its_answer(http):
    auth, conversation = opened(http)
    http.post("/_sandbox/faults", json={"path": f"{PUBLIC}/messages", "method": "POST", "dropAfter": True}
              ).raise_for_status()
    with pytest.raises(httpx.HTTPError):
        send(http, auth, conversation, "did it arrive?")
    held = http.get(f"{PUBLIC}/messages", headers=auth, params={"conversationId": conversation}).json()
    assert [m["content"] for m in held["messages"]] == ["did it arrive?"]
