"""Example payloads copied from the OpenTrain contract (/work/shared/opentrain-api.md), section by section; the
contract's `<JOB_ID>`-style placeholders are given id-shaped values (`job_doc_1`), as the bot refuses any other id."""

REGISTRATION = {  # §2.1.1
    "identity_type": "anonymous", "registration_id": "<REGISTRATION_ID>", "access_token": "ot_pat_reg1_secretvalue",
    "token_type": "bearer",
    "scopes": ["jobs:read", "jobs:write", "proposals:read", "messages:read", "payments:read", "team:read"],
    "claim_token": "ot_clm_claimsecretvalue", "claim_token_expires_at": "2026-06-13T09:00:00.000Z",
    "claim_endpoint": "https://app.opentrain.ai/api/agent/identity/claim",
    "token_endpoint": "https://app.opentrain.ai/api/agent/oauth/token",
    "grant_type": "urn:opentrain:agent-auth:grant-type:claim",
}

CLAIM_START = {  # §2.1.2
    "user_code": "439218", "verification_uri": "https://app.opentrain.ai/claim?token=ot_cat_attemptsecret",
    "expires_in": 1800, "interval": 5, "email_sent": True,
}

CLAIM_GRANT = {  # §2.1.3
    "access_token": "ot_pat_post_claimsecret", "token_type": "bearer",
    "scopes": ["jobs:read", "jobs:write", "proposals:read", "proposals:write", "messages:read", "messages:write",
               "payments:read", "team:read", "team:write"],
}

AUTH_ME = {  # §2.2.1
    "actor": {"userId": "<USER_ID>", "email": "owner@example.com", "firstName": "Mira", "lastName": "Chen",
              "fullName": "Mira Chen", "userType": "EMPLOYER"},
    "token": {"id": "<TOKEN_ID>", "label": "ci-runner",
              "scopes": ["jobs:read", "jobs:write", "proposals:read", "payments:read"], "ownerOrganizationId": None},
    "account": {"kind": "employer_organization", "organizationId": "<ORGANIZATION_ID>", "ownerUserId": "<USER_ID>",
                "memberRole": "OWNER"},
}

TOKEN_RECORD = {  # §2.3
    "id": "<TOKEN_ID>", "name": "Hiring agent", "preview": "ot_pat_c3f9********bd21",
    "scopes": ["jobs:read", "jobs:write", "proposals:read"], "status": "active", "organizationId": None,
    "createdAt": "2026-06-12T10:00:00.000Z", "lastUsedAt": "2026-06-12T11:30:00.000Z", "expiresAt": None,
    "revokedAt": None,
}

CAPABILITIES = {  # §2.4.1
    "featureKey": "public_api_job_drafting", "namespace": "job-drafts", "rolloutMode": "ALL", "actorIsAdmin": False,
    "capabilities": {
        "draftImport": True, "draftCreate": True, "draftUpdate": True, "draftUrlRead": True,
        "publish": True, "hiring": True, "messagingWrites": True, "team": True,
        "paymentsWrite": True, "credits": True, "webhooks": True,
    },
    "draft": {
        "importFormats": ["text", "opentrain_canonical", "schema_org_job_posting", "indeed_xml", "hr_xml"],
        "updateKeys": ["jobTitle", "jobDescription", "labelingOverview", "datasetDescription", "dataType",
                       "subjectMatter", "dataVolume", "dataVolumeUnit", "labelingSoftware", "headcount",
                       "experienceLevel", "paymentType", "pricePerHour", "pricePerLabel", "fixedPrice", "countries",
                       "languages", "labelTypes", "..."],
        "enums": {
            "paymentType": ["PAY_PER_LABEL", "PAY_PER_HOUR", "FIXED_PRICE"],
            "experienceLevel": ["EXPERT", "ENTRY_LEVEL", "INTERMEDIATE", "ANY_EXPERIENCE_LEVEL"],
            "dataVolumeUnit": ["HOURS_OF_RECORDING_AUDIO_VIDEO", "NUMBER_OF_FILES", "NUMBER_OF_WORDS",
                               "UNKNOWN_NOT_SPECIFIED"],
        },
    },
    "authBootstrap": "token", "enabled": True,
}

DRAFT_REPORT = {  # §2.4.2
    "ok": True, "jobId": "job_doc_1", "status": "DRAFT",
    "draftUrl": "https://app.opentrain.ai/job-post?jobId=job_doc_1",
    "reviewUrl": "https://app.opentrain.ai/job-post?jobId=job_doc_1",
    "validation": {"publishReady": False, "issueCount": 0, "missingFieldCount": 2,
                   "missingFields": ["experienceLevel", "pricePerLabel"], "issues": []},
    "missingFields": [
        {"field": "experienceLevel", "label": "Experience level",
         "message": "Experience level is required before publishing.", "code": "missing_required_field",
         "prompt": "ask: What experience level should AI trainers have? "
                   "(EXPERT, ENTRY_LEVEL, INTERMEDIATE, ANY_EXPERIENCE_LEVEL)",
         "type": "enum", "enumValues": ["EXPERT", "ENTRY_LEVEL", "INTERMEDIATE", "ANY_EXPERIENCE_LEVEL"],
         "updateKeys": ["experienceLevel"], "example": "INTERMEDIATE",
         "hint": "Pick the minimum level the work realistically needs."},
        {"field": "pricePerLabel", "label": "Price per label", "message": "A pay rate is required before publishing.",
         "code": "missing_required_field", "prompt": "ask: How much will you pay per label (USD)?", "type": "number",
         "enumValues": None, "updateKeys": ["pricePerLabel"], "example": "0.05", "hint": None},
    ],
    "normalizedFields": {"jobTitle": "Spanish Sentiment Labeling — Social Media Posts", "paymentType": "PAY_PER_LABEL",
                         "languages": ["Spanish"], "headcount": 5, "dataVolume": 20000,
                         "dataVolumeUnit": "NUMBER_OF_..."},
    "lowConfidenceFields": [], "unmappedFields": [], "warnings": [],
}

PATCH_REPORT = {  # §2.4.3: only `validation`
    "ok": True, "jobId": "job_doc_1", "status": "DRAFT", "draftUrl": "https://app.opentrain.ai/job-post?jobId=job_doc_1",
    "validation": {"publishReady": True, "issueCount": 0, "missingFieldCount": 0, "missingFields": [], "issues": []},
}

PUBLISH = {  # §2.5.6
    "ok": True, "jobId": "job_doc_1", "status": "OPEN", "alreadyPublished": False,
    "jobUrl": "https://app.opentrain.ai/jobs/job_doc_1", "publishAttemptId": "<ATTEMPT_ID>", "warnings": [],
    "sideEffects": {"dispatched": True, "status": "queued"},
}

CLOSE = {"ok": True, "jobId": "job_doc_1", "status": "ARCHIVED", "alreadyClosed": False}  # §2.5.8

MY_JOBS = {  # §2.5.5
    "jobs": [{"id": "job_doc_1", "title": "Spanish Sentiment Labeling — Social Media Posts", "status": "OPEN",
              "published": True, "acceptingApplicants": True, "createdAt": "2026-06-10T11:02:00.000Z",
              "updatedAt": "2026-06-11T09:15:00.000Z", "jobUrl": "https://app.opentrain.ai/jobs/job_doc_1",
              "proposalCounts": {"total": 12, "unreviewed": 5}}],
    "nextCursor": None,
}

PROPOSAL = {  # §2.6.1 (API reference rendering)
    "id": "prop_doc_1", "jobId": "job_doc_1", "jobTitle": "Spanish Sentiment Labeling — Social Media Posts",
    "createdAt": "2026-06-11T15:40:00.000Z", "updatedAt": "2026-06-11T15:40:00.000Z",
    "status": {"raw": "UNREVIEWED", "label": "Unreviewed"},
    "bid": {"amountUsd": 0.06, "unit": "PER_LABEL", "labelerHourlyRateUsd": None},
    "candidate": {"id": "<FREELANCER_ID>", "profileSlug": "maria-g", "displayName": "Maria G.", "firstName": "Maria",
                  "lastNameInitial": "G", "profileTitle": "Text Annotation Specialist",
                  "profilePhotoUrl": "https://app.opentrain.ai/<PHOTO_PATH>", "countryCode": "ES", "country": "Spain",
                  "talentType": "FREELANCER", "highestEarningsUsd": 2400, "reviewCount": 7},
    "metrics": {"interviewScore": 86, "matchScore": 0.91},
}

PROPOSAL_GUIDE_VARIANT = {  # §2.6.1 [conflict]: the evaluate-candidates guide's rendering
    **PROPOSAL,
    "bid": {"amountUsd": 40, "unit": "per_hour", "labelerHourlyRateUsd": 55},
    "candidate": {**PROPOSAL["candidate"], "lastNameInitial": "R.", "country": "USA", "talentType": "Individual"},
    "metrics": {"interviewScore": 8.6, "matchScore": 87},
}

PROPOSAL_DETAIL = {  # §2.6.2
    "proposal": {
        **PROPOSAL,
        "aiInterview": {"score": 86, "summary": "Strong grasp of sentiment-labeling edge cases; ...",
                        "transcriptAvailable": True},
        "verification": {"location": {"status": "PASSED", "method": "GPS", "checkedAt": "2026-06-11T15:38:00.000Z"},
                         "identity": {"verified": True}},
        "openLabel": None, "contract": None,
    }
}

CONVERSATION = {"ok": True, "conversationId": "conv_doc_1", "proposalId": "prop_doc_1",  # §2.6.4
                "jobId": "job_doc_1", "created": True}

HIRE = {  # §2.6.5
    "approval": {"id": "apr_doc_1", "type": "proposal_hire", "status": "pending", "contractId": None,
                 "milestoneId": None, "jobId": "job_doc_1", "proposalId": "prop_doc_1",
                 "approvalUrl": "https://app.opentrain.ai/approvals/apr_doc_1",
                 "expiresAt": "2026-06-15T10:00:00.000Z", "resolvedAt": None, "result": None,
                 "createdAt": "2026-06-12T10:00:00.000Z"},
    "message": "Hire request recorded. A signed-in human must confirm this approval in the OpenTrain app before the "
               "freelancer is hired and any money moves.",
}

UPDATES = {  # §2.12.1
    "events": [
        {"id": "1042", "type": "proposal.received", "apiVersion": "v1", "createdAt": "2026-06-12T10:00:00.000Z",
         "resourceId": "prop_doc_1", "jobId": "job_doc_1", "data": {"proposalId": "prop_doc_1",
                                                                     "jobId": "job_doc_1"}},
        {"id": "1043", "type": "approval.confirmed", "apiVersion": "v1", "createdAt": "2026-06-12T10:05:00.000Z",
         "resourceId": "apr_doc_1", "jobId": "job_doc_1", "data": {"approvalId": "apr_doc_1",
                                                                     "status": "confirmed"}},
    ],
    "nextCursor": "1043", "hasMore": False,
}

WEBHOOK_CREATED = {  # §2.13.1
    "webhook": {"id": "wh_doc_1", "url": "https://example.com/hooks/opentrain",
                "eventTypes": ["proposal.received", "message.received", "approval.confirmed"], "status": "ACTIVE",
                "createdAt": "2026-06-12T10:00:00.000Z", "disabledAt": None, "disabledReason": None},
    "secret": "whsec_signingsecretvalue",
    "message": "Store the secret now — it is only returned once. Use it to verify the X-OpenTrain-Signature header "
               "on deliveries.",
}

CLAIM_REQUIRED = {  # §1.4
    "error": "A human must claim this agent account before it can hire AI trainers.", "code": "FORBIDDEN",
    "requestId": "req-claim-1",
    "details": {"reason": "account_claim_required", "action": "hire AI trainers",
                "claimUrl": "https://app.opentrain.ai/claim"},
}
