"""The Home tab (published for the viewer when they open it) and the "Close" button on a job, from Home or `/hire list`.

What a job's buttons do is `bot.hiring.board.JobBoard`'s; this reads the click, and answers where it came from: the
Home tab is published again with a line on top, a `/hire list` message answered through its response_url.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from bot.hiring.views import Words
from bot.slack.blocks.conversation import SlackMessage, section
from bot.slack.blocks.jobs import CLOSE_JOB, JOBS_PAGE, MAX_HOME_BLOCKS, NEW_JOB, home_view, in_progress_line
from bot.slack.blocks.new_job import new_job_modal
from bot.slack.blocks.proposals import mrkdwn
from bot.slack.clicks import click_origin
from bot.slack.deps import SlackDeps
from bot.slack.dialogue import SLACK_CALL_ERRORS, failure_code

log = logging.getLogger(__name__)


def register(app: AsyncApp, deps: SlackDeps) -> None:
    @app.event("app_home_opened")
    async def on_home_opened(event: dict[str, Any], body: dict[str, Any]) -> None:
        if event.get("tab", "home") != "home":
            return  # the Messages tab: nothing to draw
        await deps.work.run(partial(publish_home, deps, _team(body, event), event["user"]))

    @app.action(NEW_JOB)
    async def on_new_job(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        try:  # at once: the trigger id lapses in 3 s
            await deps.client.views_open(trigger_id=body.get("trigger_id", ""), view=new_job_modal())
        except SLACK_CALL_ERRORS as exc:
            log.warning("cannot open the new-job modal from Home (%s)", failure_code(exc))

    @app.action(JOBS_PAGE)
    async def on_page(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        value = str(action.get("value", ""))
        page = int(value) if value.isdigit() else 0  # a hint: home_view keeps it within the pages there are
        origin = click_origin(body)
        await deps.work.run(partial(publish_home, deps, origin.team_id, origin.user_id, page=page))

    @app.action(CLOSE_JOB)
    async def on_close(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        await deps.work.run(partial(_close, deps, body, str(action.get("value", "")), respond))


async def publish_home(deps: SlackDeps, team_id: str, user_id: str, notice: Words | None = None,
                       page: int = 0) -> None:
    jobs = await deps.board.jobs_of(team_id, user_id)
    conversations = [in_progress_line(c.title, c.channel, c.root_state)
                     for c in await deps.dialogue.in_progress(team_id, user_id)]
    view = home_view(jobs, conversations, page)
    if notice is not None:
        view["blocks"].insert(1, section(mrkdwn(notice)))
        view["blocks"] = view["blocks"][:MAX_HOME_BLOCKS]
    try:
        await deps.client.views_publish(user_id=user_id, view=view)
    except SLACK_CALL_ERRORS as exc:
        log.warning("views.publish failed: %s", failure_code(exc))


async def _close(deps: SlackDeps, body: dict[str, Any], job_id: str, respond: AsyncRespond) -> None:
    origin = click_origin(body)
    words, record = await deps.board.close(origin.team_id, origin.user_id, job_id)
    if record is not None:
        await deps.dialogue.job_closed(origin.team_id, record.ref.conversation_id, origin.user_id)
    if (body.get("container") or {}).get("type") == "view":
        await publish_home(deps, origin.team_id, origin.user_id, notice=words)
        return
    message = SlackMessage(text=mrkdwn(words), blocks=[section(mrkdwn(words))])
    try:
        await respond(text=message.text, blocks=message.blocks, response_type="ephemeral", replace_original=False)
    except Exception as exc:  # the response_url lapsed (30 minutes): the thread already says it was closed
        log.warning("cannot answer a Close click (%s)", type(exc).__name__)


def _team(body: dict[str, Any], event: dict[str, Any]) -> str:
    return str(body.get("team_id") or event.get("view", {}).get("team_id") or "")
