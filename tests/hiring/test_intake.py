"""What a draft is created from: pasted postings recognised by content, files read within their limits."""

from __future__ import annotations

import json

import httpx
import pytest

from bot.hiring import intake
from bot.hiring.intake import IntakeLimits, Unreadable, describe_from_file, detect, read_file, size_refusal
from tests.support import documents as docs

LIMITS = IntakeLimits()


# ---- pasted words ----------------------------------------------------------------------------------------------

def test_plain_words_are_a_description() -> None:
    source = detect(f"  {docs.DESCRIPTION}\n")
    assert (source.format, source.payload, source.structured) == ("text", docs.DESCRIPTION, False)


def test_json_ld_job_posting_is_sent_as_json_ld() -> None:
    source = detect(docs.json_ld_text())
    assert source.format == intake.SCHEMA_ORG
    assert source.payload == docs.JSON_LD  # the object itself, not flattened to text
    assert source.headline == "Dashcam Bounding Boxes (from a schema.org JobPosting)"


def test_job_posting_inside_a_graph_or_a_list_is_found() -> None:
    graph = {"@context": "https://schema.org", "@graph": [{"@type": "Organization"}, docs.JSON_LD]}
    assert detect(json.dumps(graph)).format == intake.SCHEMA_ORG
    assert detect(json.dumps([{"@type": ["Thing", "JobPosting"], "title": "x"}])).format == intake.SCHEMA_ORG


def test_canonical_job_bare_or_wrapped() -> None:
    assert detect(docs.canonical_text()).format == intake.CANONICAL
    wrapped = detect(json.dumps({"format": "opentrain_canonical", "job": docs.CANONICAL}))
    assert (wrapped.format, wrapped.payload) == (intake.CANONICAL, docs.CANONICAL)


def test_indeed_and_hr_xml_are_sent_as_xml() -> None:
    indeed = detect(docs.INDEED_XML)
    assert (indeed.format, indeed.payload, indeed.title) == (intake.INDEED, docs.INDEED_XML,
                                                             "Audio Transcription Reviewers")
    hr = detect(docs.HR_XML)
    assert (hr.format, hr.title) == (intake.HR_XML, "Medical Image Segmentation")


def test_a_posting_in_a_code_block_or_entity_escaped_is_recognised() -> None:
    assert detect(f"```json\n{docs.json_ld_text()}\n```").format == intake.SCHEMA_ORG
    escaped = docs.INDEED_XML.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    assert detect(escaped).format == intake.INDEED


@pytest.mark.parametrize("words", [
    "{not json at all, just braces} we need annotators",
    '{"name": "something else"}',
    "<b>We need annotators</b>",
    "<unclosed",
    "[1, 2, 3]",
])
def test_anything_unrecognised_stays_words(words: str) -> None:
    assert detect(words) == intake.JobSource(format="text", payload=words, title=words.splitlines()[0])


def test_billion_laughs_is_refused_without_expanding() -> None:
    with pytest.raises(Unreadable, match="DTD or entities"):
        detect(docs.BILLION_LAUGHS)


def test_a_posting_longer_than_opentrain_takes_is_refused() -> None:
    with pytest.raises(Unreadable, match="OpenTrain accepts at most 100"):
        detect(docs.json_ld_text(), limits=IntakeLimits(max_chars=100))


def test_deeply_nested_json_is_just_words() -> None:
    assert detect("[" * 100_000 + "]" * 100_000).format == "text"


# ---- files -----------------------------------------------------------------------------------------------------

def test_text_and_markdown_files() -> None:
    for name in ("job.txt", "job.md"):
        source = read_file(name, "text/plain", docs.DESCRIPTION.encode(), LIMITS)
        assert (source.format, source.payload) == ("text", docs.DESCRIPTION)


def test_a_text_file_holding_a_posting_is_detected_by_content() -> None:
    assert read_file("posting.txt", "text/plain", docs.HR_XML.encode(), LIMITS).format == intake.HR_XML
    assert read_file("job.json", "application/json", docs.json_ld_text().encode(), LIMITS).format == \
        intake.SCHEMA_ORG
    assert read_file("job.xml", "", docs.INDEED_XML.encode(), LIMITS).format == intake.INDEED


def test_pdf_text_is_extracted() -> None:
    source = read_file("job.pdf", "application/pdf", docs.pdf(), LIMITS)
    assert source.format == "text"
    assert "50,000 dashcam images" in source.payload.replace("\n", " ")


def test_docx_text_is_extracted_paragraph_by_paragraph() -> None:
    source = read_file("job.docx", "", docs.docx("Dashcam annotators", docs.DESCRIPTION), LIMITS)
    assert source.payload == f"Dashcam annotators\n{docs.DESCRIPTION}"
    assert source.headline == "Dashcam annotators"


@pytest.mark.parametrize(("name", "data", "said"), [
    ("job.pdf", docs.encrypted_pdf(), "password-protected"),
    ("job.pdf", docs.pdf(pages=51), "has 51 pages"),
    ("job.pdf", b"%PDF-1.4\n garbage", "couldn't read"),
    ("job.pdf", docs.pdf(" "), "no text I can read"),
    ("job.pdf", docs.pdf(inflated_padding=20_000_000), "couldn't read"),  # pypdf, capped, stops at 10 MB
    ("job.docx", docs.docx_bomb(), "unpacks to far more"),
    ("job.docx", docs.docx_bomb(2 * 1024 * 1024), "unpacks to far more"),  # small in total, but 1000:1
    ("job.docx", b"PK\x03\x04 not really a zip", "as a Word document"),
    ("setup.exe", docs.EXE, "I can't read"),
    ("job.txt", b"", "is empty"),
    ("job.txt", b"  \n ", "is empty"),
    ("job.txt", b"\xff\xfe\x00j\x00o\x00b", "isn't text"),
    ("job.txt", "é".encode("latin-1") * 10, "isn't UTF-8"),
    ("job.txt", b"x" * 60_001, "60,001 characters"),
    ("job.json", b'{"name": "a photo"}', "not a posting I know"),
    ("job.xml", docs.BILLION_LAUGHS.encode(), "DTD or entities"),
])
def test_unreadable_files_are_refused_in_one_sentence(name: str, data: bytes, said: str) -> None:
    with pytest.raises(Unreadable) as refused:
        read_file(name, "", data, LIMITS)
    assert said in refused.value.sentence
    assert refused.value.sentence.count(". ") <= 2 and "\n" not in refused.value.sentence


def test_size_is_refused_before_download() -> None:
    assert size_refusal("big.pdf", 6 * 1024 * 1024) == (
        '"big.pdf" is 6.0 MB; I read files up to 5.0 MB. Please share a shorter job description.')
    assert size_refusal("empty.txt", 0) == '"empty.txt" is empty.'
    assert size_refusal("job.pdf", 1000) is None and size_refusal("job.pdf", None) is None


async def test_a_read_that_takes_too_long_is_abandoned() -> None:
    with pytest.raises(Unreadable, match="took too long"):
        await describe_from_file("job.pdf", "", docs.pdf(pages=50), limits=IntakeLimits(timeout_seconds=0.001))


async def test_describe_from_file_reads_in_a_thread() -> None:
    source = await describe_from_file("job.docx", "", docs.docx())
    assert source.payload == docs.DESCRIPTION


# ---- the engine: a posting pasted in /hire, a file's source handed in -----------------------------------------

def sandbox_format(bot, job_id: str) -> str:
    response = httpx.get(f"{bot.sandbox_url}/_sandbox/jobs/{job_id}/source", timeout=10)
    response.raise_for_status()
    return str(response.json()["format"])


@pytest.mark.parametrize(("pasted", "draft_format"), [
    (docs.json_ld_text(), intake.SCHEMA_ORG),
    (docs.canonical_text(), intake.CANONICAL),
    (docs.INDEED_XML, intake.INDEED),
    (docs.HR_XML, intake.HR_XML),
    (docs.DESCRIPTION, "text"),
])
async def test_a_pasted_posting_creates_the_draft_in_its_format(bot, pasted: str, draft_format: str) -> None:
    reply = await bot.hire(pasted)
    conversation = await bot.engine.store.load(bot.ref)
    assert reply.state is not None and conversation is not None and conversation.job_id
    assert sandbox_format(bot, conversation.job_id) == draft_format
    assert (conversation.source.format if conversation.source else "text") == draft_format


async def test_a_source_read_by_a_front_end_is_used_as_it_is(bot) -> None:
    source = await describe_from_file("job.docx", "", docs.docx(docs.DESCRIPTION))
    await bot.hire("job.docx", source=source)
    conversation = await bot.engine.store.load(bot.ref)
    assert conversation is not None and conversation.description == docs.DESCRIPTION
    assert sandbox_format(bot, conversation.job_id or "") == "text"


async def test_a_hostile_paste_creates_nothing(bot) -> None:
    reply = await bot.hire(docs.BILLION_LAUGHS)
    assert reply.state is None and "DTD or entities" in reply.views[0].text
    assert await bot.engine.store.load(bot.ref) is None
    assert bot.requests("POST", "job-drafts") == 0
