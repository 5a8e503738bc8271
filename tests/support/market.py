"""The OpenTrain side of the notification stories, played through the sandbox over HTTP (public + control API)."""

from __future__ import annotations

import httpx

from bot.hiring.jobs import JobRecord, record_job
from bot.hiring.record import ConversationRef

API = "/api/public/v1"
READY_FIELDS = {
    "jobTitle": "Dashcam image annotation", "dataType": "Image", "dataVolume": 50000,
    "dataVolumeUnit": "NUMBER_OF_FILES", "labelTypes": ["Bounding box"], "languages": ["English"], "headcount": 10,
    "experienceLevel": "INTERMEDIATE", "paymentType": "PAY_PER_HOUR", "pricePerHour": 18,
}


class Market:
    def __init__(self, sandbox_url: str):
        self.url = sandbox_url
        self._http = httpx.Client(base_url=sandbox_url, timeout=10)

    def close(self) -> None:
        self._http.close()

    def control(self, path: str, body: dict | None = None) -> dict:
        response = self._http.post(f"/_sandbox/{path}", json=body or {})
        response.raise_for_status()
        return response.json()

    def account(self, *, claimed: bool = True) -> str:
        """A fresh account's app token (every scope)."""
        return self.control("tokens", {"claimed": claimed})["token"]

    def publish_job(self, token: str) -> tuple[str, str]:
        """(job id, job url) of a new OPEN job."""
        auth = {"authorization": f"Bearer {token}"}
        job_id = self._http.post(f"{API}/job-drafts", headers=auth, json={"rawJobDescription": "Dashcam boxes"}
                                 ).json()["jobId"]
        self._http.patch(f"{API}/job-drafts/{job_id}", headers=auth, json=READY_FIELDS).raise_for_status()
        published = self._http.post(f"{API}/jobs/{job_id}/publish", headers=auth)
        published.raise_for_status()
        return job_id, published.json()["jobUrl"]

    def propose(self, job_id: str, count: int = 1) -> list[str]:
        return [p["id"] for p in self.control(f"jobs/{job_id}/proposals", {"count": count})["proposals"]]

    def set_status(self, proposal_id: str, status: str) -> None:
        self.control(f"proposals/{proposal_id}/status", {"status": status})

    def conversations(self, token: str) -> list[str]:
        """Ids of the account's conversations, newest activity first."""
        listed = self._http.get(f"{API}/messages", headers={"authorization": f"Bearer {token}"}).json()
        return [c["id"] for c in listed["conversations"]]

    def sent(self, token: str, conversation_id: str) -> list[str]:
        """What the account sent in a conversation, oldest first, as OpenTrain holds it."""
        page = self._http.get(f"{API}/messages", headers={"authorization": f"Bearer {token}"}, params={
            "conversationId": conversation_id, "direction": "newer", "limit": 100}).json()
        return [m["content"] for m in page["messages"] if m["isFromViewer"]]

    def request_log(self) -> list[dict]:
        """OpenTrain requests as the sandbox saw them: method, path, status, at (ISO, the sandbox's clock)."""
        return self._http.get("/_sandbox/requests").json()["requests"]

    def requests(self, path_part: str, method: str = "GET") -> int:
        return sum(1 for r in self.request_log() if r["method"] == method and path_part in r["path"])


async def seed_job(redis, namespace: str, *, job_id: str, job_url: str, workspace_id: str, channel: str,
                   root_ts: str, requester: str = "UREQ") -> None:
    """The registry entry the engine writes when a job is published from Slack."""
    await record_job(redis, namespace, JobRecord(
        job_id=job_id, workspace_id=workspace_id, ref=ConversationRef(workspace_id, f"{channel}:{root_ts}"),
        requester=requester, surface={"channel": channel, "thread_ts": root_ts, "requester": requester},
        job_url=job_url))
