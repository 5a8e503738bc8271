"""The one link policy: which URLs from OpenTrain the bot may show, and the pages it builds itself from ids.

Everything OpenTrain sends is data, and a spoofed or compromised answer could name any page. So a URL is shown only
when it is `https` on one of the configured OpenTrain hosts (the API host of `OPENTRAIN_BASE_URL`, the web app host of
`OPENTRAIN_APP_URL`), or plain `http` on a loopback host (the sandbox). Anything else is dropped where it enters the
bot (`OpenTrainClient` applies this policy to every answer), and the bot falls back to a page it builds from ids.

Ids that go into links, action values or Slack text must look like ids (`is_opentrain_id`); `models.OpenTrainId`
refuses anything else when an answer is read. The app's paths are not documented by the API [inferred].
"""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import quote, urlsplit

from bot.infra.settings import is_loopback

log = logging.getLogger(__name__)

OPENTRAIN_APP_URL = "https://app.opentrain.ai"
# Letters, digits, `_` and `-`, 1 to 128 of them: safe in a path, a query, an action value and mrkdwn alike.
ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,128}")
USER_CODE = re.compile(r"[0-9]{6}")
PROFILE_PATH = re.compile(r"/profile/([A-Za-z0-9_-]{1,128})/?")  # a trainer's page: `profilePath` (contract §2.7.1)
MAX_URL_LENGTH = 2048
# RFC 3986 characters only: no spaces, quotes, `<`, `>`, `|`, backslashes or controls, which could end a Slack link
# (`<url|label>`) early or smuggle markup.
URL_CHARACTERS = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+")
DEFAULT_PORTS = {"https": 443, "http": 80}


def is_opentrain_id(value: Any) -> bool:
    return isinstance(value, str) and ID_PATTERN.fullmatch(value) is not None


def is_user_code(value: Any) -> bool:
    return isinstance(value, str) and USER_CODE.fullmatch(value) is not None


def origin(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an absolute http(s) URL, None for anything else."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if scheme not in DEFAULT_PORTS or not host:
        return None
    return scheme, host, port or DEFAULT_PORTS[scheme]


def allowed_scheme(url: str) -> bool:
    """`https`, or plain `http` on a loopback host only (the settings refuse any other http base URL)."""
    found = origin(url)
    if found is None:
        return False
    scheme, host, _ = found
    return scheme == "https" or is_loopback(host)


def shown(url: str) -> str:
    """A URL for a log line: scheme, host and path only (the query and fragment may carry tokens); of any other
    scheme (`javascript:`), only its name."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparsable URL>"
    if parts.scheme.lower() not in DEFAULT_PORTS:
        return f"a {parts.scheme[:20]}: URL" if parts.scheme else "a relative URL"
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}{parts.path}"[:200]


class LinkPolicy:
    """The OpenTrain hosts a link may point at, and the app pages built from (validated) ids."""

    def __init__(self, api_url: str, app_url: str = OPENTRAIN_APP_URL) -> None:
        self.api_url = api_url.rstrip("/")
        self.app_url = app_url.rstrip("/")
        self._origins = {o for o in (origin(self.api_url), origin(self.app_url)) if o is not None}

    def __repr__(self) -> str:
        return f"LinkPolicy(api_url={self.api_url!r}, app_url={self.app_url!r})"

    def is_trusted(self, url: Any) -> bool:
        if not isinstance(url, str) or not url or len(url) > MAX_URL_LENGTH:
            return False
        if URL_CHARACTERS.fullmatch(url) is None or not allowed_scheme(url):
            return False
        try:
            parts = urlsplit(url)
        except ValueError:
            return False
        if parts.username is not None or parts.password is not None or "@" in parts.netloc:
            return False  # `https://app.opentrain.ai@evil.example/` reads as one host and goes to another
        return origin(url) in self._origins

    def trusted(self, url: Any, *, what: str = "link") -> str | None:
        """`url` when the policy accepts it; None (logged once, here, without its query) when it does not."""
        if url is None or url == "":
            return None
        if self.is_trusted(url):
            return str(url)
        log.warning("dropped an untrusted %s from OpenTrain: %s", what,
                    shown(url) if isinstance(url, str) else type(url).__name__)
        return None

    # --- pages the bot builds itself --------------------------------------------------------------------------

    def job_page(self, job_id: str) -> str:
        """The job's public page (the contract's `jobUrl` shape)."""
        return f"{self.app_url}/jobs/{_id(job_id)}"

    def proposal_page(self, job_url: str | None, job_id: str, proposal_id: str) -> str:
        """No proposal page is documented; the job's page plus the proposal id is where OpenTrain lists it."""
        base = self.trusted(job_url, what="job URL") or self.job_page(job_id)
        return f"{base.rstrip('/')}/proposals/{_id(proposal_id)}"

    def conversation_page(self, conversation_id: str) -> str:
        """Where the hiring side writes to a candidate once the conversation is open."""
        return f"{self.app_url}/messages?conversationId={_id(conversation_id)}"

    def draft_page(self, job_id: str) -> str:
        """Where a job that is a draft again is fixed and published (the contract's `draftUrl` shape)."""
        return f"{self.app_url}/job-post?jobId={_id(job_id)}"

    def profile_page(self, slug: str) -> str:
        """A trainer's public profile (the contract's `profilePath`, on the web app)."""
        return f"{self.app_url}/profile/{_id(slug)}"

    def profile_slug(self, text: str) -> str | None:
        """The slug (or user id) a person gave for a trainer: a bare slug, or a profile link on a trusted OpenTrain
        host (`https://app.opentrain.ai/profile/<slug>`); None for anything else."""
        value = text.strip()
        if is_opentrain_id(value):
            return value
        if not self.is_trusted(value):
            return None
        found = PROFILE_PATH.fullmatch(urlsplit(value).path)
        return found.group(1) if found else None

    def approval_page(self, approval_id: str) -> str:
        """Where a signed-in human approves a hire request (the contract's `approvalUrl` shape, §2.11)."""
        return f"{self.app_url}/approvals/{_id(approval_id)}"


def _id(value: str) -> str:
    if not is_opentrain_id(value):
        raise ValueError("not an OpenTrain id")
    return quote(value, safe="")
