"""Metric labels of OpenTrain requests: the path template, never an id; anything unknown is "other"."""

from __future__ import annotations

import pytest

from bot.opentrain.transport import endpoint_template

BASE = "https://app.opentrain.ai"


@pytest.mark.parametrize("path, template", [
    ("/api/agent/identity", "/api/agent/identity"),
    ("/api/agent/identity/claim", "/api/agent/identity/claim"),
    ("/api/agent/oauth/token", "/api/agent/oauth/token"),
    ("/api/public/v1/job-drafts/capabilities", "/api/public/v1/job-drafts/capabilities"),
    ("/api/public/v1/job-drafts/job_46bba5e5882da0aa", "/api/public/v1/job-drafts/{id}"),
    ("/api/public/v1/jobs/mine", "/api/public/v1/jobs/mine"),
    ("/api/public/v1/jobs/job_1/publish", "/api/public/v1/jobs/{id}/publish"),
    ("/api/public/v1/jobs/job%7C1%3E/proposals", "/api/public/v1/jobs/{id}/proposals"),
    ("/api/public/v1/proposals/prop_9/hire", "/api/public/v1/proposals/{id}/hire"),
    ("/api/public/v1/proposals/prop_9", "/api/public/v1/proposals/{id}"),
    ("/api/public/v1/updates", "/api/public/v1/updates"),
    ("/api/public/v1/webhooks/wh_1", "/api/public/v1/webhooks/{id}"),
    ("/api/public/v1/jobs/job_1", "/api/public/v1/jobs/{id}"),
    ("/api/public/v1/freelancers/ada-l", "/api/public/v1/freelancers/{id}"),
    ("/api/public/v1/jobs/job_1/invites", "/api/public/v1/jobs/{id}/invites"),
    ("/api/public/v1/approvals/apr_1", "/api/public/v1/approvals/{id}"),
    ("/api/public/v1/contracts", "/api/public/v1/contracts"),
    ("/api/public/v1/contracts/ctr_1", "/api/public/v1/contracts/{id}"),
    ("/api/public/v1/contracts/ctr_1/milestones", "/api/public/v1/contracts/{id}/milestones"),
    ("/api/public/v1/contracts/ctr_1/end", "/api/public/v1/contracts/{id}/end"),
    ("/api/public/v1/milestones/ms_1/fund", "/api/public/v1/milestones/{id}/fund"),
    ("/api/public/v1/milestones/ms_1/approve", "/api/public/v1/milestones/{id}/approve"),
    ("/api/public/v1/messages", "/api/public/v1/messages"),
    ("/api/public/v1/credits", "/api/public/v1/credits"),
])
def test_every_path_the_client_calls_has_its_template(path, template):
    assert endpoint_template(BASE + path + "?cursor=abc&limit=100") == template
    assert endpoint_template("http://127.0.0.1:8700/prefix" + path) == template  # a base URL with a path


@pytest.mark.parametrize("path", ["/", "/api/public/v1/jobs/job_1/secret/ot_pat_x", "/api/public/v2/updates",
                                  "/api/public/v1/proposals/prop_1/unknown"])
def test_anything_else_is_other(path):
    assert endpoint_template(BASE + path) == "other"
