"""Every documented example parses, every [conflict] variant reads into one shape, and envelopes map to errors."""

from __future__ import annotations

import pytest

from bot.opentrain import errors
from bot.opentrain.models import (
    AuthMe,
    Capabilities,
    ClaimGrant,
    ClaimStart,
    CloseResult,
    ConversationOpened,
    DraftReport,
    HireApproval,
    MyJob,
    OAuthErrorBody,
    Proposal,
    ProposalDetail,
    PublicErrorBody,
    PublishResult,
    Registration,
    TokenRecord,
    UpdatesPage,
    WebhookCreated,
)
from tests.opentrain import payloads


def test_agent_auth_examples_parse_with_tokens_masked():
    registration = Registration.model_validate(payloads.REGISTRATION)
    assert registration.access_token.get_secret_value() == "ot_pat_reg1_secretvalue"
    assert registration.claim_token.get_secret_value() == "ot_clm_claimsecretvalue"
    assert len(registration.scopes) == 6
    start = ClaimStart.model_validate(payloads.CLAIM_START)
    assert (start.user_code, start.interval, start.expires_in, start.email_sent) == ("439218", 5, 1800, True)
    assert ClaimStart.model_validate({**payloads.CLAIM_START, "user_code": 439218}).user_code == "439218"
    grant = ClaimGrant.model_validate(payloads.CLAIM_GRANT)
    assert "proposals:write" in grant.scopes and len(grant.scopes) == 9
    for model in (registration, start, grant):
        assert "secret" not in repr(model) and "secret" not in str(model)
    # The verification URI is for the human, so it dumps in clear; the bearer tokens never do.
    for model in (registration, grant):
        assert "secret" not in model.model_dump_json()


def test_identity_capabilities_and_token_record_parse():
    me = AuthMe.model_validate(payloads.AUTH_ME)
    assert (me.actor.full_name, me.account.kind, me.account.claimed) == ("Mira Chen", "employer_organization", None)
    assert me.token.scopes == ["jobs:read", "jobs:write", "proposals:read", "payments:read"]
    caps = Capabilities.model_validate(payloads.CAPABILITIES)
    assert caps.capabilities.webhooks is True and caps.capabilities.messaging_writes is True
    assert "..." not in caps.draft.update_keys and "pricePerLabel" in caps.draft.update_keys
    assert caps.draft.enums["paymentType"] == ["PAY_PER_LABEL", "PAY_PER_HOUR", "FIXED_PRICE"]
    assert "hr_xml" in caps.draft.import_formats
    # An unmentioned feature is unknown, not off; the dump keeps the API's camelCase names for readers of dicts.
    partial = Capabilities.model_validate({"capabilities": {"publish": False}, "futureKey": 1})
    assert partial.capabilities.publish is False and partial.capabilities.hiring is None
    assert partial.model_dump(by_alias=True)["capabilities"]["messagingWrites"] is None
    token = TokenRecord.model_validate(payloads.TOKEN_RECORD)
    assert token.preview == "ot_pat_c3f9********bd21" and token.status == "active"


def test_draft_report_example_parses_whole():
    report = DraftReport.model_validate(payloads.DRAFT_REPORT)
    assert report.job_id == "job_doc_1" and report.has_field_details
    assert report.validation.missing_fields == ["experienceLevel", "pricePerLabel"]
    assert report.validation.missing_field_count == 2 and report.validation.publish_ready is False
    level, price = report.missing_fields
    assert level.question.startswith("What experience level") and level.enum_values[-1] == "ANY_EXPERIENCE_LEVEL"
    assert (price.type, price.example, price.enum_values, price.update_keys) == ("number", "0.05", None,
                                                                                 ["pricePerLabel"])
    assert report.normalized_fields["headcount"] == 5
    assert report.missing_field_names == ["experienceLevel", "pricePerLabel"]


def test_draft_report_conflict_variants_normalise():
    variant = {
        **payloads.DRAFT_REPORT,
        # validation.missingFields as objects, and the API-reference's empty list with a count
        "validation": {"publishReady": False, "missingFieldCount": 1,
                       "missingFields": [{"field": "experienceLevel", "prompt": "..."}]},
        "missingFields": [
            {"field": "experienceLevel", "code": "MISSING_EXPERIENCE_LEVEL",
             "prompt": "What experience level should AI trainers have?", "example": 3},
            "dataVolumeUnit",
        ],
        "lowConfidenceFields": ["headcount", {"field": "paymentType", "value": "PAY_PER_LABEL", "confidence": 0.4},
                                {"key": "languages", "reason": "guessed from context"}],
        "unmappedFields": [{"path": "$.benefits", "reason": "no matching field", "valuePreview": "Health..."},
                           {"path": "$.extra", "reason": "unknown", "valuePreview": {"a": 1}}],
        "warnings": ["Pay looks low", {"message": "Title shortened", "code": "TITLE_TRUNCATED"}],
    }
    report = DraftReport.model_validate(variant)
    assert report.validation.missing_fields == ["experienceLevel"]
    level, unit = report.missing_fields
    assert level.question == "What experience level should AI trainers have?" and level.code.startswith("MISSING_")
    assert level.example == 3
    assert (unit.field, unit.update_keys, unit.question) == ("dataVolumeUnit", ["dataVolumeUnit"],
                                                            "What should dataVolumeUnit be?")
    assert [f.field for f in report.low_confidence_fields] == ["headcount", "paymentType", "languages"]
    assert report.low_confidence_fields[1].confidence == 0.4
    assert [f.value_preview for f in report.unmapped_fields[:2]] == ["Health...", '{"a": 1}']
    assert report.warnings == ["Pay looks low", "Title shortened"]
    empty = DraftReport.model_validate({**payloads.DRAFT_REPORT, "validation": {"missingFieldCount": 2,
                                                                                "missingFields": []}})
    assert empty.missing_field_names == ["experienceLevel", "pricePerLabel"]


def test_patch_report_with_only_validation_is_partial():
    report = DraftReport.model_validate(payloads.PATCH_REPORT)
    assert report.validation.publish_ready is True
    assert report.missing_fields == [] and report.normalized_fields is None and not report.has_field_details
    assert report.missing_field_names == []


def test_job_payloads_parse():
    published = PublishResult.model_validate(payloads.PUBLISH)
    assert (published.status, published.already_published, published.side_effects["status"]) == ("OPEN", False,
                                                                                                  "queued")
    assert PublishResult.model_validate({**payloads.PUBLISH, "warnings": [{"message": "x"}]}).warnings == ["x"]
    closed = CloseResult.model_validate(payloads.CLOSE)
    assert (closed.status, closed.already_closed) == ("ARCHIVED", False)
    job = MyJob.model_validate(payloads.MY_JOBS["jobs"][0])
    assert (job.proposal_counts.total, job.proposal_counts.unreviewed, job.accepting_applicants) == (12, 5, True)


@pytest.mark.parametrize("raw, unit_key, scores", [
    (payloads.PROPOSAL, "PER_LABEL", (86, 0.91)),
    (payloads.PROPOSAL_GUIDE_VARIANT, "PER_HOUR", (8.6, 87)),
])
def test_proposal_renderings_parse(raw, unit_key, scores):
    proposal = Proposal.model_validate(raw)
    assert proposal.bid.unit_key == unit_key
    assert (proposal.metrics.interview_score, proposal.metrics.match_score) == scores
    assert proposal.status.raw == "UNREVIEWED" and proposal.candidate.talent_type in ("FREELANCER", "Individual")


def test_proposal_detail_unwraps_and_tolerates_string_status():
    detail = ProposalDetail.model_validate(payloads.PROPOSAL_DETAIL)
    assert detail.id == "prop_doc_1" and detail.ai_interview.transcript_available is True
    assert detail.verification["identity"]["verified"] is True and detail.contract is None
    bare = ProposalDetail.model_validate({**payloads.PROPOSAL, "status": "NOT_A_FIT"})
    assert (bare.status.raw, bare.status.label) == ("NOT_A_FIT", "Not a fit")


def test_feed_webhook_conversation_and_hire_parse():
    page = UpdatesPage.model_validate(payloads.UPDATES)
    assert [e.id for e in page.events] == ["1042", "1043"] and page.next_cursor == "1043" and not page.has_more
    assert page.events[0].data["proposalId"] == "prop_doc_1"
    assert UpdatesPage.model_validate({"events": [{"id": 7, "type": "x"}], "nextCursor": 7}).next_cursor == "7"
    created = WebhookCreated.model_validate(payloads.WEBHOOK_CREATED)
    assert created.webhook.event_types[0] == "proposal.received" and created.secret.startswith("whsec_")
    assert "whsec_" not in repr(created)
    opened = ConversationOpened.model_validate(payloads.CONVERSATION)
    assert opened.conversation_id == "conv_doc_1" and opened.created
    hire = HireApproval.model_validate(payloads.HIRE)
    assert (hire.approval.type, hire.approval.status) == ("proposal_hire", "pending")


def test_error_envelopes_parse():
    public = PublicErrorBody.model_validate(payloads.CLAIM_REQUIRED)
    assert (public.code, public.request_id, public.details["reason"]) == ("FORBIDDEN", "req-claim-1",
                                                                          "account_claim_required")
    oauth = OAuthErrorBody.model_validate({"error": "anonymous_not_enabled"})
    assert oauth.error_description is None


def _public(status, code, details=None, message="Nope."):
    body = {"error": message, "code": code, "requestId": "req-1"}
    if details is not None:
        body["details"] = details
    return body


@pytest.mark.parametrize("status, body, headers, expected", [
    (401, _public(401, "UNAUTHORIZED"), {}, errors.Unauthorized),
    (403, payloads.CLAIM_REQUIRED, {}, errors.ClaimRequired),
    (403, _public(403, "FORBIDDEN", {"reason": "moderation_blocked", "reasons": ["contact details"]}), {},
     errors.ModerationBlocked),
    (403, _public(403, "FORBIDDEN", {"featureKey": "public_api_hiring"}), {}, errors.FeatureDisabled),
    (403, _public(403, "FORBIDDEN", {"requiredScopes": ["webhooks:manage"], "grantedScopes": ["jobs:read"]}), {},
     errors.MissingScope),
    (403, _public(403, "FORBIDDEN"), {}, errors.Forbidden),
    (400, _public(400, "BAD_REQUEST", {"validation": payloads.DRAFT_REPORT["validation"],
                                       "missingFields": payloads.DRAFT_REPORT["missingFields"]}), {},
     errors.NotPublishReady),
    (400, _public(400, "BAD_REQUEST", [{"path": ["pricePerHour"], "message": "Expected number"}]), {},
     errors.BadRequest),
    (404, {"id": "job_1", "status": "closed"}, {}, errors.NotFound),
    (409, _public(409, "CONFLICT", {"reason": "payment_method_required"}), {}, errors.Conflict),
    (429, _public(429, "RATE_LIMITED", {"retryAfterSeconds": 12}), {}, errors.RateLimited),
    (503, _public(503, "INTERNAL_ERROR"), {}, errors.ServerError),
    (500, {"error": "server_error"}, {}, errors.ServerError),
    (502, None, {}, errors.ServerError),
    (400, {"error": "authorization_pending"}, {}, errors.AuthorizationPending),
    (400, {"error": "slow_down", "error_description": "poll slower"}, {}, errors.SlowDown),
    (400, {"error": "expired_token"}, {}, errors.ExpiredToken),
    (400, {"error": "invalid_grant"}, {}, errors.InvalidGrant),
    (400, {"error": "unsupported_grant_type"}, {}, errors.UnsupportedGrantType),
    (400, {"error": "invalid_request", "error_description": "email_already_registered"}, {}, errors.InvalidRequest),
    (403, {"error": "anonymous_not_enabled"}, {}, errors.AnonymousNotEnabled),
    (429, {"error": "rate_limit_exceeded"}, {"retry-after": "4"}, errors.OAuthRateLimited),
])
def test_error_mapping(status, body, headers, expected):
    error = errors.error_from_response(status, body, headers)
    assert type(error) is expected and error.status == status
    assert isinstance(error, errors.OpenTrainError)


def test_error_attributes():
    claim = errors.error_from_response(403, payloads.CLAIM_REQUIRED)
    assert (claim.claim_url, claim.action, claim.reason) == ("https://app.opentrain.ai/claim", "hire AI trainers",
                                                             "account_claim_required")
    assert str(claim) == ("A human must claim this agent account before it can hire AI trainers. "
                          "(FORBIDDEN, HTTP 403, request req-claim-1)")
    not_ready = errors.error_from_response(400, _public(400, "BAD_REQUEST", {
        "validation": payloads.DRAFT_REPORT["validation"], "missingFields": payloads.DRAFT_REPORT["missingFields"]}))
    assert not_ready.validation.missing_fields == ["experienceLevel", "pricePerLabel"]
    assert [m.field for m in not_ready.missing_fields] == ["experienceLevel", "pricePerLabel"]
    scope = errors.error_from_response(403, _public(403, "FORBIDDEN", {"requiredScopes": ["webhooks:manage"],
                                                                       "grantedScopes": ["jobs:read"]}))
    assert (scope.required_scopes, scope.granted_scopes) == (["webhooks:manage"], ["jobs:read"])
    bad = errors.error_from_response(400, _public(400, "BAD_REQUEST", {"issues": [{"path": ["x"]}]}))
    assert bad.issues == [{"path": ["x"]}]
    daily = errors.error_from_response(429, _public(429, "RATE_LIMITED", {"reason": "daily_publish_limit",
                                                                          "retryAfterSeconds": 3600}))
    assert (daily.retry_after, daily.reason) == (3600, "daily_publish_limit")
    header_wins = errors.error_from_response(429, _public(429, "RATE_LIMITED", {"retryAfterSeconds": 9}),
                                             {"retry-after": "2"})
    assert header_wins.retry_after == 2
    taken = errors.error_from_response(400, {"error": "invalid_request",
                                             "error_description": "email_already_registered: sign in instead"})
    assert taken.email_already_registered and taken.description.startswith("email_already")
    assert not errors.error_from_response(400, {"error": "invalid_request"}).email_already_registered
    oauth_limited = errors.error_from_response(429, {"error": "rate_limit_exceeded"}, {"retry-after": "4"})
    assert isinstance(oauth_limited, errors.RateLimited) and oauth_limited.retry_after == 4


def test_error_text_never_carries_a_token():
    error = errors.error_from_response(400, _public(400, "BAD_REQUEST", message="Token ot_pat_abcd_leakysecret bad"))
    assert "leakysecret" not in str(error) and "leakysecret" not in error.message
