"""Live jobs and trainers in the sandbox: `PATCH /jobs/{id}` (contract §2.5.7), `POST /jobs/{id}/invites` (§2.5.9),
`GET /freelancers/{idOrSlug}` (§2.7.1), and the control call that seeds trainers (`POST /_sandbox/freelancers`).

A live edit is validated like a draft PATCH (`catalog`) and re-moderated with the publish rules (`moderation`): when
moderation refuses it, the edit is still applied and the job goes back to DRAFT (409 `moderation_blocked`), as the
contract says. Trainers live here, not in `World`, so this module is self-contained; they are forgotten with the
rest of the world on `reset` (its `generation` changes).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from aiohttp import web

from bot.sandbox import catalog, moderation
from bot.sandbox.proposals import fake_proposal
from bot.sandbox.records import APP_URL, Json, Proposal, Token, bad_request, conflict, iso, new_id, not_found
from bot.sandbox.routes_public import PREFIX, read_json
from bot.sandbox.world import World


@dataclass
class Trainer:
    """A seeded OpenTrain user; `freelancer=False` plays a client account (invites refuse it: not_a_freelancer)."""

    id: str
    slug: str
    first_name: str
    last_initial: str
    title: str
    country_code: str
    country: str
    hourly_rate_usd: float
    available: bool = True
    freelancer: bool = True
    created_at: float = 0.0
    invited_to: dict[str, str] = field(default_factory=dict)  # job id -> proposal id

    def profile(self) -> dict:
        """The masked public profile (first name and last initial, no contact details)."""
        return {
            "id": self.id, "profileSlug": self.slug, "profilePath": f"/profile/{self.slug}",
            "displayName": f"{self.first_name} {self.last_initial}.", "firstName": self.first_name,
            "lastNameInitial": self.last_initial, "talentType": "Individual" if self.freelancer else "Client",
            "title": self.title, "bio": f"{self.title} on OpenTrain.", "city": None, "countryCode": self.country_code,
            "country": self.country, "profilePhotoUrl": f"{APP_URL}/avatars/{self.slug}.png",
            "hourlyRateUsd": self.hourly_rate_usd, "availability": "FULL_TIME" if self.available else "NOT_AVAILABLE",
            "expertiseLevel": "EXPERT", "englishLevel": "FLUENT", "memberSince": iso(self.created_at),
            "identityVerified": True,
            "skills": {"subjectMatter": [], "tags": ["TEXT_CLASSIFICATION"], "software": [], "dataTypes": ["TEXT"],
                       "labelTypes": ["CLASSIFICATION"]},
            "languages": [{"language": "English", "proficiency": "FLUENT"}],
            "stats": {"totalEarnedUsd": 2400, "billedHours": 310, "jobSuccessScore": 98, "reviewCount": 7,
                      "averageRating": 4.9},
            "agency": None, "labelExperience": [], "workExperience": [], "education": [], "reviews": [],
        }


class LiveJobRoutes:
    def __init__(self, world: World) -> None:
        self.world = world
        self._trainers: dict[str, Trainer] = {}
        self._generation = world.generation

    def register(self, app: web.Application) -> None:
        add = app.router.add_route
        add("PATCH", f"{PREFIX}/jobs/{{job_id}}", self.edit_job)
        add("POST", f"{PREFIX}/jobs/{{job_id}}/invites", self.invite)
        add("GET", f"{PREFIX}/freelancers/{{id_or_slug}}", self.freelancer)
        add("POST", "/_sandbox/freelancers", self.seed_freelancer)

    @property
    def trainers(self) -> dict[str, Trainer]:
        if self._generation != self.world.generation:  # the world was reset: so are its trainers
            self._trainers, self._generation = {}, self.world.generation
        return self._trainers

    def _token(self, request: web.Request, *scopes: str) -> Token:
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        token = self.world.authenticate(value.strip() if scheme.lower() == "bearer" else None)
        self.world.require_scope(token, *scopes)
        return token

    # ---- PATCH /jobs/{id}

    async def edit_job(self, request: web.Request) -> web.Response:
        token = self._token(request, "jobs:write")
        self.world.require_feature("public_api_job_publishing")
        job = self.world.own_job(token, request.match_info["job_id"])
        body = await read_json(request)
        if not isinstance(body, dict) or not body:
            raise bad_request("Body must be a JSON object with at least one draft key.",
                              issues=[{"path": [], "message": "Expected a non-empty object", "code": "invalid_type"}])
        if issues := catalog.validate_patch(body):
            raise bad_request("Invalid job update.", issues=issues)
        if job.status != "OPEN":
            hint = " Drafts are edited with PATCH /job-drafts/{jobId}." if job.status == "DRAFT" else ""
            raise conflict(f"Only OPEN jobs can be edited.{hint}", jobId=job.id, status=job.status,
                           requiredStatus="OPEN")
        job.fields = catalog.apply_patch(job.fields, body)  # applied whatever moderation says (contract §2.5.7)
        job.updated_at = self.world.now()
        if reasons := moderation.moderate(job.fields):
            job.status = "DRAFT"
            raise conflict("The edit was blocked by content moderation; the job is unpublished to DRAFT.",
                           jobId=job.id, reason="moderation_blocked", reasons=reasons, status="DRAFT")
        return web.json_response({"ok": True, "jobId": job.id, "status": job.status,
                                  "moderation": {"decision": "ALLOW", "reasons": []}})

    # ---- POST /jobs/{id}/invites

    async def invite(self, request: web.Request) -> web.Response:
        token = self._token(request, "proposals:write", "jobs:write")  # [conflict]: either scope is documented
        self.world.require_feature("public_api_hiring")
        self.world.require_claimed(token, "invite AI trainers")
        body = await read_json(request)
        freelancer_id = body.get("freelancerId") if isinstance(body, dict) else None
        if not isinstance(freelancer_id, str) or not freelancer_id.strip():
            raise bad_request("freelancerId is required.", issues=[
                {"path": ["freelancerId"], "message": "Required", "code": "invalid_type"}])
        job = self.world.own_job(token, request.match_info["job_id"])
        trainer = self.trainers.get(freelancer_id)
        if trainer is None:
            raise not_found("No such user.", freelancerId=freelancer_id)
        if job.status != "OPEN":
            raise conflict("Trainers can only be invited to published jobs.", reason="job_not_published",
                           jobId=job.id, status=job.status)
        if not trainer.freelancer:
            raise conflict("This user is not a freelancer.", reason="not_a_freelancer", freelancerId=trainer.id)
        if not trainer.available:
            raise conflict("This freelancer is not available for new work.", reason="freelancer_unavailable",
                           freelancerId=trainer.id)
        already = job.id in trainer.invited_to
        if not already:
            trainer.invited_to[job.id] = self._invited_proposal(job.id, job.fields, trainer)
        return web.json_response({"ok": True, "proposalId": trainer.invited_to[job.id], "jobId": job.id,
                                  "freelancerId": trainer.id, "alreadyInvited": already},
                                 status=200 if already else 201)

    def _invited_proposal(self, job_id: str, job_fields: dict, trainer: Trainer) -> str:
        """The *invited* proposal an invite creates (no `proposal.received` event: the trainer has not applied)."""
        now = self.world.now()
        profile = fake_proposal(self.world.rng, job_fields)
        masked = trainer.profile()
        profile["candidate"] = {**profile["candidate"], "id": trainer.id, "profileSlug": trainer.slug,
                                "displayName": masked["displayName"], "firstName": trainer.first_name,
                                "lastNameInitial": trainer.last_initial, "profileTitle": trainer.title,
                                "countryCode": trainer.country_code, "country": trainer.country}
        proposal = Proposal(new_id("prop"), job_id, now, now, profile)
        self.world.proposals[proposal.id] = proposal
        self.world.jobs[job_id].proposal_ids.append(proposal.id)
        return proposal.id

    # ---- GET /freelancers/{idOrSlug}

    async def freelancer(self, request: web.Request) -> web.Response:
        self._token(request, "proposals:read")
        wanted = request.match_info["id_or_slug"]
        trainer = self.trainers.get(wanted) or next((t for t in self.trainers.values() if t.slug == wanted), None)
        if trainer is None:
            raise not_found("No such freelancer.", idOrSlug=wanted)
        return web.json_response({"freelancer": trainer.profile()})

    # ---- control: POST /_sandbox/freelancers

    async def seed_freelancer(self, request: web.Request) -> web.Response:
        body = await read_json(request, required=False) or {}
        if not isinstance(body, dict):
            raise bad_request("The body must be a JSON object.")
        first = _text(body, "firstName", "Maria")
        slug = _text(body, "slug", f"{first.lower()}-{secrets.token_hex(2)}")
        if any(t.slug == slug for t in self.trainers.values()):
            raise conflict("A trainer with this slug exists.", field="slug")
        rate = body.get("hourlyRateUsd", 18)
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or rate < 0:
            raise bad_request("hourlyRateUsd must be a non-negative number.", field="hourlyRateUsd")
        trainer = Trainer(id=new_id("usr"), slug=slug, first_name=first, last_initial=_text(body, "lastInitial", "G"),
                          title=_text(body, "title", "Text Annotation Specialist"),
                          country_code=_text(body, "countryCode", "ES"), country=_text(body, "country", "Spain"),
                          hourly_rate_usd=rate, available=body.get("available", True) is not False,
                          freelancer=body.get("freelancer", True) is not False, created_at=self.world.now())
        self.trainers[trainer.id] = trainer
        return web.json_response({"freelancer": trainer.profile()}, status=201)


def _text(body: dict, name: str, default: str) -> str:
    value: Json = body.get(name, default)
    if not isinstance(value, str) or not value.strip():
        raise bad_request(f"{name} must be a non-empty string.", field=name)
    return value.strip()
