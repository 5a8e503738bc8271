"""Your jobs in Slack, over signed HTTP: the Home tab on open, `/hire list`, and "Close" (its requester or a hiring
manager only, from Home or the list), which closes the job on OpenTrain, says so in its thread and stops its cards.
"""

from __future__ import annotations

import json
import time
from typing import Any

import httpx

from bot.app import serve_http
from bot.hiring.approvals import TrackedApproval
from bot.hiring.board import JobLine, JobList
from bot.slack.blocks.jobs import CLOSE_JOB, HOME_JOBS_PER_PAGE, JOBS_PAGE, home_view, job_list
from tests.slack.conftest import REQUESTER, STRANGER, TEAM, HttpSlack, Person
from tests.slack.story import eventually, in_thread, publish_a_job
from tests.support.market import Market, seed_job

MANAGER = "UMGR"


def home_opened(user: str) -> dict[str, Any]:
    return {"token": "t", "team_id": TEAM, "api_app_id": "A1", "type": "event_callback",
            "event_id": f"EvHome{user}{time.monotonic_ns()}", "event_time": int(time.time()),
            "event": {"type": "app_home_opened", "user": user, "channel": f"D{user}", "tab": "home",
                      "event_ts": f"{time.time():.6f}"}}


def close_from_home(user: str, job_id: str) -> dict[str, Any]:
    """The Close button as Slack sends it from a Home tab: the job id is the button's value, a hint."""
    return {"type": "block_actions", "team": {"id": TEAM}, "user": {"id": user, "team_id": TEAM},
            "api_app_id": "A1", "token": "t", "trigger_id": "trig-home",
            "container": {"type": "view", "view_id": "VHOME"}, "view": {"id": "VHOME", "type": "home"},
            "actions": [{"type": "button", "action_id": CLOSE_JOB, "block_id": "b1", "value": job_id,
                         "text": {"type": "plain_text", "text": "Close"}, "action_ts": f"{time.time():.6f}"}]}


def home_text(slack_api, user: str) -> str:
    return json.dumps(slack_api.homes.get(user) or {}, ensure_ascii=False)


def job_buttons(view_or_blocks: Any, action_id: str = CLOSE_JOB) -> list[dict[str, Any]]:
    """The buttons with `action_id` on a Home view or a message's blocks, one per job."""
    blocks = view_or_blocks.get("blocks", []) if isinstance(view_or_blocks, dict) else view_or_blocks
    return [element for block in blocks if block.get("type") == "actions" for element in block["elements"]
            if element.get("action_id") == action_id]


def close_buttons(view_or_blocks: Any) -> list[str]:
    return [button["value"] for button in job_buttons(view_or_blocks)]


async def test_home_list_and_close_for_the_requester_and_a_manager_only(make_settings, slack_api, sandbox_url):
    settings = make_settings(hiring_managers=MANAGER)
    slack_api.add_user(MANAGER, "mo@example.com", "Mo Manager")
    market = Market(sandbox_url)
    async with serve_http(settings, port=0) as server, httpx.AsyncClient(timeout=10) as http:
        slack = HttpSlack([server.url], http)
        requester, manager = Person(REQUESTER, slack, slack_api), Person(MANAGER, slack, slack_api)
        root = await publish_a_job(requester, slack_api)
        (await http.post(f"{sandbox_url}/_sandbox/credits", json={"availableCents": 5000, "reservedCents": 2500})
         ).raise_for_status()

        # Home on open: the requester's job, with its proposals and a Close button (confirm dialog on it).
        assert await slack.event(home_opened(REQUESTER)) == 200
        home = await eventually(lambda: slack_api.homes.get(REQUESTER), "the requester's Home tab")
        [job_id] = close_buttons(home)
        assert "dashcam" in home_text(slack_api, REQUESTER).lower() and "0 proposals" in home_text(slack_api,
                                                                                                   REQUESTER)
        assert "Credit balance: *$50.00* available, $25.00 reserved" in home_text(slack_api, REQUESTER)
        confirm = job_buttons(home)[0]["confirm"]
        assert confirm["confirm"]["text"] == "Close job"

        # A member who is neither sees no job, and a forged Close click with the job's id closes nothing.
        assert await slack.event(home_opened(STRANGER)) == 200
        await eventually(lambda: "No jobs yet" in home_text(slack_api, STRANGER), "the stranger's empty Home")
        assert await slack.action(close_from_home(STRANGER, job_id)) == 200
        await eventually(lambda: "Only" in home_text(slack_api, STRANGER), "the stranger told no")
        assert "a hiring manager can close this job" in home_text(slack_api, STRANGER)
        assert market.requests(f"/jobs/{job_id}/close", "POST") == 0

        # A hiring manager sees it in `/hire list`, ephemeral, with the same Close button.
        assert await manager.hire("list") == 200
        listing = await eventually(lambda: [c for c in slack_api.calls_to("response_url")
                                            if "Your jobs" in c.args.get("text", "")], "the /hire list answer")
        assert listing[-1].args["response_type"] == "ephemeral"
        assert close_buttons(listing[-1].args["blocks"]) == [job_id]

        # The requester closes it from Home: closed on OpenTrain, said in the thread and on the root, Home redrawn.
        assert await slack.action(close_from_home(REQUESTER, job_id)) == 200
        await eventually(lambda: "Closed the job" in home_text(slack_api, REQUESTER), "Home redrawn with the news")
        assert market.requests(f"/jobs/{job_id}/close", "POST") == 1
        assert close_buttons(slack_api.homes[REQUESTER]) == []
        assert "*\\nclosed ·" in home_text(slack_api, REQUESTER)  # OpenTrain lists it closed now
        note = await eventually(lambda: in_thread(slack_api, root, "Closed on OpenTrain by"), "the thread's note")
        assert f"<@{REQUESTER}>" in note.text
        assert "closed on OpenTrain" in slack_api.messages[(root.channel, root.ts)].text

        # An old Close button clicked again: told it is closed already; the thread is not told twice.
        assert await slack.action(close_from_home(REQUESTER, job_id)) == 200
        await eventually(lambda: "already closed" in home_text(slack_api, REQUESTER), "the already-closed word")
        assert len([m for m in slack_api.thread(root.channel, root.ts) if "Closed on OpenTrain by" in m.text]) == 1
    market.close()


def test_home_and_list_fit_slacks_block_limits_however_many_jobs():
    jobs = JobList([JobLine(job_id=f"job_{n:04d}", title=f"Job <{n}> @here", status="OPEN", url=None, proposals=n,
                            unreviewed=0, requester=REQUESTER, may_close=True) for n in range(300)], claimed=True)
    view = home_view(jobs, conversations=["• a draft: collecting details"])
    assert len(view["blocks"]) <= 100
    assert "Older jobs" in json.dumps(view["blocks"][-1])  # the tab pages; /hire list says how many more
    message = job_list(jobs)
    assert len(message.blocks) <= 50 and "older jobs, all listed on OpenTrain" in json.dumps(message.blocks[-1])
    # OpenTrain's titles are text: no link, no broadcast.
    assert "<0>" not in json.dumps(view) and "@here" not in json.dumps(view)
    waiting = TrackedApproval(workspace_id=TEAM, approval_id="apr_1", type="proposal_hire", status="pending",
                              requested_by=REQUESTER, approval_url="javascript:alert(1)",
                              expires_at="2026-12-04T10:00Z")
    shown = json.dumps(home_view(JobList([], claimed=True, approvals=[waiting]), []))
    assert "Waiting for approval in OpenTrain" in shown and f"<@{REQUESTER}>" in shown and "javascript" not in shown
    down = home_view(JobList([], claimed=False, unavailable=("OpenTrain isn't answering right now.",)), [])
    assert "isn't answering" in json.dumps(down) and "isn't claimed yet" in json.dumps(down)


def page_click(user: str, page: str) -> dict[str, Any]:
    click = close_from_home(user, page)
    click["actions"][0].update(action_id=JOBS_PAGE, text={"type": "plain_text", "text": "Older jobs →"})
    return click


async def test_home_pages_through_more_jobs_than_one_tab_holds(make_settings, slack_api, sandbox_url, redis,
                                                                namespace):
    market = Market(sandbox_url)
    token = market.account()
    market.control("config", {"publishLimitClaimed": 100})
    jobs = [market.publish_job(token) for _ in range(60)]  # 120 blocks' worth: more than one Home tab holds
    for n, (job_id, job_url) in enumerate(jobs):
        await seed_job(redis, namespace, job_id=job_id, job_url=job_url, workspace_id=TEAM, channel="CJOBS",
                       root_ts=f"1700000000.{n:06d}")
    async with (serve_http(make_settings(opentrain_api_token=token), port=0) as server,
                httpx.AsyncClient(timeout=10) as http):
        slack = HttpSlack([server.url], http)
        assert await slack.event(home_opened(REQUESTER)) == 200
        first = await eventually(lambda: slack_api.homes.get(REQUESTER), "the Home tab")
        newest = [job_id for job_id, _ in reversed(jobs)]
        assert close_buttons(first) == newest[:HOME_JOBS_PER_PAGE] and len(first["blocks"]) <= 100

        seen = list(close_buttons(first))
        for page in ("1", "2"):
            before = slack_api.homes[REQUESTER]
            assert await slack.action(page_click(REQUESTER, page)) == 200
            await eventually(lambda b=before: slack_api.homes[REQUESTER] is not b, f"page {page}")
            seen += close_buttons(slack_api.homes[REQUESTER])
            assert len(slack_api.homes[REQUESTER]["blocks"]) <= 100
        assert seen == newest  # every job once, newest first, over three pages
        assert "Older jobs" not in home_text(slack_api, REQUESTER)  # the last page
        # A forged page number draws the last page there is.
        assert await slack.action(page_click(REQUESTER, "999")) == 200
        await eventually(lambda: close_buttons(slack_api.homes[REQUESTER]) == newest[2 * HOME_JOBS_PER_PAGE:],
                         "the last page again")
    market.close()
