"""A hostile OpenTrain: the sandbox's answers rewritten the way a spoofed or compromised server could send them.

Armed through `POST /_sandbox/hostile` (docs/sandbox.md), it rewrites the JSON of every matching OpenTrain answer on
its way out, never the world's state: the next request sees the true data again, rewritten again.

- `urls`: every link in an answer (job, draft and review pages, the claim's `verification_uri`, approval, billing and
  claim links) points elsewhere: `elsewhere` (another host), `javascript` (a `javascript:` URL), `lookalike` (a host
  that merely starts with OpenTrain's) or `userinfo` (`https://app.opentrain.ai@evil.example/`).
- `text`: Slack markup (`<!here>`, `<!channel>`, `<@U123>`, `<https://evil.example|click>`, a bare `@everyone`) is
  appended to what freelancers and OpenTrain write: candidate names and titles, job titles, cover letters, prompts,
  labels, field values, warnings, messages.
- `ids`: the named keys' values (e.g. `conversationId`, `id`) get `|` and `>` (and a `<!here>`) appended.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from typing import Any

from bot.sandbox.records import bad_request

INJECTION = " <!here> <!channel> <@U123> <https://evil.example|click> @everyone"
ID_SUFFIX = "|<!here>>"
URL_MODES = {
    "elsewhere": lambda original: "https://evil.example/phish",
    "javascript": lambda original: "javascript:alert(document.cookie)",
    "lookalike": lambda original: "https://app.opentrain.ai.evil.example/phish",
    "userinfo": lambda original: "https://app.opentrain.ai@evil.example/phish",
}
URL_KEYS = frozenset({"jobUrl", "draftUrl", "reviewUrl", "verification_uri", "verificationUri", "approvalUrl",
                      "billingUrl", "claimUrl"})
TEXT_KEYS = frozenset({"displayName", "firstName", "lastNameInitial", "profileTitle", "jobTitle", "title",
                       "coverLetter", "message", "label", "prompt", "hint", "example", "valuePreview", "summary",
                       "country", "error_description"})  # not `reason`: the bot branches on `details.reason`
TEXT_LISTS = frozenset({"warnings", "issues", "reasons"})
FIELD_VALUES = frozenset({"normalizedFields"})
KNOWN = {"urls", "text", "ids", "path", "method", "times"}


@dataclass
class Hostility:
    urls: str | None = None
    text: bool = False
    ids: frozenset[str] = field(default_factory=frozenset)
    path: str = "/api/*"
    method: str | None = None
    times: int | None = None  # None: every matching answer until cleared

    @classmethod
    def read(cls, body: dict) -> Hostility:
        unknown = sorted(set(body) - KNOWN)
        if unknown:
            raise bad_request("Unknown hostile keys.", unknownKeys=unknown, supportedKeys=sorted(KNOWN))
        urls, text, ids = body.get("urls"), body.get("text", False), body.get("ids") or []
        if urls is not None and urls not in URL_MODES:
            raise bad_request("urls must be one of " + ", ".join(URL_MODES) + ".", field="urls")
        if not isinstance(text, bool):
            raise bad_request("text must be a boolean.", field="text")
        if not isinstance(ids, list) or not all(isinstance(i, str) and i for i in ids):
            raise bad_request("ids must be a list of JSON keys.", field="ids")
        path, method, times = body.get("path", "/api/*"), body.get("method"), body.get("times")
        if not isinstance(path, str) or not path.startswith("/"):
            raise bad_request("path must be an exact path or a glob such as /api/public/v1/proposals/*.",
                              field="path")
        if method is not None and not isinstance(method, str):
            raise bad_request("method must be a string.", field="method")
        if times is not None and (isinstance(times, bool) or not isinstance(times, int) or times < 1):
            raise bad_request("times must be a positive integer.", field="times")
        if urls is None and not text and not ids:
            raise bad_request("Say what to make hostile: urls, text or ids.")
        return cls(urls, text, frozenset(ids), path, method, times)

    def wire(self) -> dict:
        return {"urls": self.urls, "text": self.text, "ids": sorted(self.ids), "path": self.path,
                "method": self.method, "times": self.times}

    def matches(self, method: str, path: str) -> bool:
        if self.times is not None and self.times < 1:
            return False
        if self.method and self.method.upper() != method.upper():
            return False
        return path == self.path or fnmatch.fnmatchcase(path, self.path)

    def rewrite(self, body: Any) -> Any:
        """A rewritten copy of an answer's JSON; one use spent."""
        if self.times is not None:
            self.times -= 1
        return self._value(None, body)

    def _value(self, key: str | None, value: Any) -> Any:
        if isinstance(value, dict):
            if key in FIELD_VALUES and self.text:
                return {k: v + INJECTION if isinstance(v, str) else self._value(k, v) for k, v in value.items()}
            return {k: self._entry(k, v, value) for k, v in value.items()}
        if isinstance(value, list):
            if key in TEXT_LISTS and self.text:
                return [v + INJECTION if isinstance(v, str) else self._value(None, v) for v in value]
            return [self._value(None, v) for v in value]
        return value

    def _entry(self, key: str, value: Any, parent: dict) -> Any:
        if isinstance(value, str):
            if key in URL_KEYS and self.urls:
                return URL_MODES[self.urls](value)
            if key in self.ids:
                return value + ID_SUFFIX
            # The public envelope's `error` is its message; the OAuth shape's `error` is a code the bot branches on.
            if self.text and (key in TEXT_KEYS or (key == "error" and "code" in parent)):
                return value + INJECTION
            return value
        return self._value(key, value)
