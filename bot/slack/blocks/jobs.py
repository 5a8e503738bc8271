"""A person's jobs in Block Kit: the Home tab and the `/hire list` answer.

Both fit Slack's limits however many jobs there are: a Home view holds at most 100 blocks, so it shows the jobs a
page at a time with buttons to the others; a message holds 50, so `/hire list` shows the newest jobs that fit and says
how many more there are (all of them are on OpenTrain). Every value from OpenTrain
(title, status, link) goes through the escaping helper; the "Edit", "Invite a trainer" and "Close" buttons (Close
with a confirm dialog) carry only the job id, which the server checks again when one is clicked.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from bot.hiring.board import JobLine, JobList
from bot.slack.blocks.conversation import MAX_BLOCKS, STATE_LABELS, SlackMessage, button, context, section
from bot.slack.blocks.proposals import mrkdwn
from bot.slack.blocks.safe import escape, link, mention

CLOSE_JOB = "job:close"
EDIT_JOB = "job:edit"
INVITE_TRAINER = "job:invite"
NEW_JOB = "job:new"
JOBS_PAGE = "job:page"
HOME_JOBS_PER_PAGE = 25  # 2 blocks each: with the rest of the tab, well within Slack's 100
MAX_HOME_BLOCKS = 100
BLOCKS_PER_JOB = 2  # the job's section, then its buttons (an open job the viewer may change) or its context line
TITLE_LIMIT = 150
STATUS_WORDS = {"OPEN": "open", "DRAFT": "draft", "ARCHIVED": "closed", "CLOSED": "closed"}
CHANNEL_ID = re.compile(r"[CGD][A-Z0-9]{2,20}")  # a channel id Slack gave: linked as <#C…>, never outside text
NO_JOBS = "No jobs yet. Type `/hire` followed by a plain-English description to start one."


def home_view(jobs: JobList, conversations: list[str], page: int = 0) -> dict[str, Any]:
    """The Home tab of one person: their conversations in progress, the account, their jobs (`page` of them,
    HOME_JOBS_PER_PAGE a page, newest first, with buttons to the pages beside it)."""
    blocks: list[dict[str, Any]] = [{"type": "header", "text": {"type": "plain_text", "text": "Your hiring"}},
                                    {"type": "actions", "elements": [button("New job", NEW_JOB, "new", "primary")]}]
    blocks.append(section(_account_line(jobs)))
    if jobs.approvals:
        blocks += [{"type": "divider"}, section(_approvals(jobs))]
    if conversations:
        blocks += [{"type": "divider"}, section("*In progress*\n" + "\n".join(conversations[:10]))]
    blocks.append({"type": "divider"})
    page = min(max(page, 0), last_page(jobs))
    shown = replace(jobs, jobs=jobs.jobs[page * HOME_JOBS_PER_PAGE:(page + 1) * HOME_JOBS_PER_PAGE])
    blocks += _job_blocks(shown, room=MAX_HOME_BLOCKS - len(blocks) - 1)
    if (pager := _pager(page, last_page(jobs))) is not None:
        blocks.append(pager)
    return {"type": "home", "blocks": blocks}


def last_page(jobs: JobList) -> int:
    return max((len(jobs.jobs) - 1) // HOME_JOBS_PER_PAGE, 0)


def _pager(page: int, last: int) -> dict[str, Any] | None:
    """Buttons to the newer and older pages of jobs; their value is only which page to draw."""
    buttons = []
    if page > 0:
        buttons.append(button("← Newer jobs", JOBS_PAGE, str(page - 1)))
    if page < last:
        buttons.append(button("Older jobs →", JOBS_PAGE, str(page + 1)))
    if not buttons:
        return None
    return {"type": "actions", "elements": buttons}


def job_list(jobs: JobList) -> SlackMessage:
    """`/hire list`, ephemeral."""
    blocks = [section("*Your jobs*"), *_job_blocks(jobs, room=MAX_BLOCKS - 1)]
    count = len(jobs.jobs)
    text = f"Your jobs: {count}" if count else "Your jobs: none yet"
    return SlackMessage(text=text, blocks=blocks)


def in_progress_line(title: str, channel: str, state: str) -> str:
    """A conversation in progress: its title, its state, and where its thread is."""
    where = f" in <#{channel}>" if CHANNEL_ID.fullmatch(channel) else ""
    return f"• {escape(title, TITLE_LIMIT)}: {escape(STATE_LABELS.get(state, state))}{where}"


APPROVAL_WORDS = {"proposal_hire": "Hire", "milestone_fund": "Fund a milestone",
                  "milestone_approve": "Release a payment", "contract_end": "End a contract"}
MAX_APPROVALS_SHOWN = 10


def _approvals(jobs: JobList) -> str:
    """Approvals waiting for a human in OpenTrain: what, who asked, the link to approve it there."""
    lines = ["*Waiting for approval in OpenTrain*"]
    for approval in jobs.approvals[:MAX_APPROVALS_SHOWN]:
        what = APPROVAL_WORDS.get(approval.type, escape(approval.type.replace("_", " ")) or "An approval")
        expires = f", expires {escape(approval.expires_at[:10])}" if approval.expires_at else ""
        lines.append(f"• {what}, asked by {mention(approval.requested_by)}{expires}: "
                     f"{link(approval.approval_url, 'review and approve')}")
    if len(jobs.approvals) > MAX_APPROVALS_SHOWN:
        lines.append(f"…and {len(jobs.approvals) - MAX_APPROVALS_SHOWN} more in OpenTrain.")
    return "\n".join(lines)


def _credits(jobs: JobList) -> str:
    if jobs.credits is None:
        return ""
    available, reserved = jobs.credits.available_cents / 100, jobs.credits.reserved_cents / 100
    return f"\nCredit balance: *${available:,.2f}* available, ${reserved:,.2f} reserved for hires and milestones."


def _account_line(jobs: JobList) -> str:
    if jobs.claimed:
        return ":white_check_mark: This workspace's OpenTrain account is claimed." + _credits(jobs)
    return (":warning: This workspace's OpenTrain account isn't claimed yet: nobody can talk to or hire candidates "
            "from Slack until an account admin types `/hire claim` in a direct message with me." + _credits(jobs))


def _job_blocks(jobs: JobList, *, room: int) -> list[dict[str, Any]]:
    if jobs.unavailable is not None:
        return [section(":hourglass: " + mrkdwn(jobs.unavailable))]
    if not jobs.jobs:
        return [section(NO_JOBS)]
    fits = max((room - 1) // BLOCKS_PER_JOB, 0)  # one block kept for "and N more"
    blocks: list[dict[str, Any]] = []
    for job in jobs.jobs[:fits]:
        blocks += _job(job)
    if len(jobs.jobs) > fits:
        blocks.append(context(f"…and {len(jobs.jobs) - fits} older jobs, all listed on OpenTrain."))
    return blocks


def _job(job: JobLine) -> list[dict[str, Any]]:
    title = link(job.url, job.title[:TITLE_LIMIT])
    status = STATUS_WORDS.get(job.status, escape(job.status.lower() or "unknown"))
    proposals = f"{job.proposals} proposals, {job.unreviewed} not reviewed"
    requested = f"Requested by {mention(job.requester)}"
    if job.open and job.may_close:  # who may close may edit and invite (authz.MAY); each click is checked again
        buttons = [button("Edit", EDIT_JOB, job.job_id), button("Invite a trainer", INVITE_TRAINER, job.job_id),
                   {**button("Close", CLOSE_JOB, job.job_id, style="danger"), "confirm": _confirm(job)}]
        return [section(f"*{title}*\n{status} · {proposals}\n{requested}"),
                {"type": "actions", "elements": buttons}]
    return [section(f"*{title}*\n{status} · {proposals}"), context(requested)]


def _confirm(job: JobLine) -> dict[str, Any]:
    return {
        "title": {"type": "plain_text", "text": "Close this job?"},
        "text": {"type": "mrkdwn", "text": f"*{escape(job.title[:TITLE_LIMIT])}* stops taking proposals on "
                                            "OpenTrain. Proposals already in stay there."},
        "confirm": {"type": "plain_text", "text": "Close job"},
        "deny": {"type": "plain_text", "text": "Keep it open"},
        "style": "danger",
    }
