"""What a job draft is created from: a typed description, a pasted posting, or a shared file. Slack-free.

`detect(text)` reads pasted words: a schema.org JobPosting (JSON-LD), an OpenTrain canonical job (JSON), an Indeed
`<job>` or an HR-XML `<PositionOpening>` is recognised by its content and kept in its own format; anything else is
plain text. `describe_from_file(filename, mimetype, data)` does the same for a file's bytes, after turning a PDF or
DOCX into text, in a worker thread under a time limit. Either gives a `JobSource` the engine creates the draft from
(`create_draft_from(format, payload)`), or raises `Unreadable` with the one sentence to say instead.

Files are hostile until read: XML goes through defusedxml (no DTD, no entities, no external references), a DOCX's
zip is checked for its size and compression ratio before anything is inflated, a PDF's pages and every text's
length are capped, and the whole read is bounded in time.
"""

from __future__ import annotations

import asyncio
import html
import io
import json
import re
import zipfile
from dataclasses import dataclass
from typing import Any
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException
from pydantic import BaseModel, ConfigDict
from pypdf import PdfReader, apply_configuration
from pypdf.errors import PyPdfError

from bot.opentrain.fields import MAX_RAW_DESCRIPTION_CHARS

TEXT = "text"
SCHEMA_ORG = "schema_org_job_posting"
CANONICAL = "opentrain_canonical"
INDEED = "indeed_xml"
HR_XML = "hr_xml"

FORMAT_NAMES = {SCHEMA_ORG: "a schema.org JobPosting", CANONICAL: "an OpenTrain job", INDEED: "an Indeed job",
                HR_XML: "an HR-XML PositionOpening"}

TEXT_EXTENSIONS = frozenset({"txt", "md", "markdown", "json", "jsonld", "xml"})
TEXT_MIMETYPES = frozenset({"application/json", "application/ld+json", "application/xml"})
PDF_MAGIC = b"%PDF-"
ZIP_MAGIC = b"PK\x03\x04"
DOCX_BODY = "word/document.xml"
WORD_NS = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
CODE_FENCE = re.compile(r"\A```[\w+-]*\n?(.*?)\n?```\Z", re.DOTALL)
# pypdf's limits on inflating one stream, each lowered to `max_pdf_stream_bytes`.
PDF_STREAM_CAPS = ("maximum_declared_stream_length", "array_based_stream_maximum_output_length",
                   "lzw_maximum_output_length", "run_length_maximum_output_length", "zlib_maximum_output_length",
                   "brotli_maximum_output_length", "jbig2_maximum_output_length", "image_maximum_buffer_size")
READABLE_KINDS = ".txt, .md, .pdf, .docx, .json (JSON-LD JobPosting or an OpenTrain job) and .xml (Indeed or HR-XML)"


class JobSource(BaseModel):
    """A description (`format` "text", `payload` the words) or a structured posting in its own import format
    (`payload`: the JSON object, or the XML as a string). `title`: a short label for where it came from."""

    model_config = ConfigDict(frozen=True)

    format: str
    payload: Any
    title: str = ""

    @property
    def structured(self) -> bool:
        return self.format != TEXT

    @property
    def headline(self) -> str:
        """One line naming the job, for where the conversation starts."""
        if not self.structured:
            return self.title or _first_line(str(self.payload))
        return f"{self.title or 'A job posting'} (from {FORMAT_NAMES[self.format]})"


class Unreadable(Exception):
    """Nothing can be made of this input; `sentence` says why, to the person who shared it."""

    def __init__(self, sentence: str) -> None:
        super().__init__(sentence)
        self.sentence = sentence


@dataclass(frozen=True)
class IntakeLimits:
    max_file_bytes: int = 5 * 1024 * 1024  # MAX_FILE_BYTES: checked against Slack's `size`, then while downloading
    max_chars: int = MAX_RAW_DESCRIPTION_CHARS  # what OpenTrain accepts as a description; postings are held to it too
    max_pdf_pages: int = 50
    max_pdf_stream_bytes: int = 10 * 1024 * 1024  # one PDF stream inflated (pypdf's own default is 75 MB)
    max_unzipped_bytes: int = 20 * 1024 * 1024  # a DOCX's parts, all together, as their headers declare them
    max_zip_ratio: int = 100  # text compresses about 10:1; a part past 100:1 is a bomb
    max_zip_members: int = 1_000
    timeout_seconds: float = 10.0


# ---- pasted words -----------------------------------------------------------------------------------------------

def detect(text: str, *, limits: IntakeLimits | None = None) -> JobSource:
    """A pasted posting in its own format, or the words as a description. Raises Unreadable only for hostile
    markup (a DTD or entities) or a posting too long to send."""
    limits = limits or IntakeLimits()
    words = text.strip()
    block = _unfenced(words)
    if block.startswith("&lt;"):  # chat front ends deliver pasted markup with <, > and & as entities
        block = html.unescape(block)
    structured = _structured(block, limits)
    if structured is not None:
        return structured
    return JobSource(format=TEXT, payload=words, title=_first_line(words))


def _unfenced(text: str) -> str:
    fenced = CODE_FENCE.match(text)
    return fenced.group(1).strip() if fenced else text


def _structured(block: str, limits: IntakeLimits) -> JobSource | None:
    if block.startswith(("{", "[")):
        return _from_json(block, limits)
    if block.startswith("<"):
        return _from_xml(block, limits)
    return None


def _from_json(block: str, limits: IntakeLimits) -> JobSource | None:
    try:
        data = json.loads(block)
    except (ValueError, RecursionError):
        return None  # not JSON after all: words that start with a brace
    posting = _job_posting(data)
    if posting is not None:
        _check_length(block, limits)
        return JobSource(format=SCHEMA_ORG, payload=data, title=_title_of(posting, "title"))
    job = data.get("job") if isinstance(data, dict) and isinstance(data.get("job"), dict) else data
    if isinstance(job, dict) and "@context" not in job and _has_text(job, "title", "description"):
        _check_length(block, limits)
        return JobSource(format=CANONICAL, payload=job, title=_title_of(job, "title", "description"))
    return None


def _job_posting(data: Any) -> dict[str, Any] | None:
    nodes = data if isinstance(data, list) else (data.get("@graph") or [data]) if isinstance(data, dict) else []
    for node in nodes if isinstance(nodes, list) else []:
        if not isinstance(node, dict):
            continue
        types = node.get("@type")
        if types == "JobPosting" or (isinstance(types, list) and "JobPosting" in types):
            return node
    return None


def _from_xml(block: str, limits: IntakeLimits) -> JobSource | None:
    try:
        root = SafeET.fromstring(block, forbid_dtd=True)
    except DefusedXmlException:
        raise Unreadable("That XML declares a DTD or entities, which I don't read; "
                         "please send the posting without them.") from None
    except SafeET.ParseError:
        return None
    name = _local(root.tag)
    if name == "PositionOpening":
        fmt, titled = HR_XML, root
    elif name.lower() == "job":
        fmt, titled = INDEED, root
    elif (job := next((e for e in root.iter() if _local(e.tag).lower() == "job"), None)) is not None:
        fmt, titled = INDEED, job
    else:
        return None
    _check_length(block, limits)
    title = next((_element_text(e) for e in titled.iter() if _local(e.tag) in ("title", "PositionTitle")), "")
    return JobSource(format=fmt, payload=block, title=_first_line(title))


# ---- files ------------------------------------------------------------------------------------------------------

def size_refusal(filename: str, size: int | None, limits: IntakeLimits | None = None) -> str | None:
    """Why a file of `size` bytes is not downloaded at all (too big, or empty), or None."""
    limits = limits or IntakeLimits()
    if size is not None and size > limits.max_file_bytes:
        return (f"{_name(filename)} is {_megabytes(size)}; I read files up to {_megabytes(limits.max_file_bytes)}. "
                "Please share a shorter job description.")
    if size == 0:
        return f"{_name(filename)} is empty."
    return None


def over_cap(filename: str, limits: IntakeLimits) -> str:
    """A file found bigger than the cap while downloading (its declared size said otherwise)."""
    return (f"{_name(filename)} is larger than {_megabytes(limits.max_file_bytes)}, the most I read. "
            "Please share a shorter job description.")


async def describe_from_file(filename: str, mimetype: str, data: bytes, *,
                             limits: IntakeLimits | None = None) -> JobSource:
    """The job source in a shared file, read in a worker thread (PDF and DOCX parsing is CPU-bound); raises
    Unreadable with the sentence to say, also when the read takes longer than `limits.timeout_seconds`."""
    limits = limits or IntakeLimits()
    try:
        return await asyncio.wait_for(asyncio.to_thread(read_file, filename, mimetype, data, limits),
                                      limits.timeout_seconds)
    except TimeoutError:
        # The thread cannot be stopped; the page and size caps bound how long it goes on.
        raise Unreadable(f"Reading {_name(filename)} took too long, so I stopped. "
                         "Please paste the description or share it as a .txt file.") from None


def read_file(filename: str, mimetype: str, data: bytes, limits: IntakeLimits) -> JobSource:
    """The job source in a file's bytes, recognised by content first, then by name and type (blocking)."""
    if (refused := size_refusal(filename, len(data), limits)) is not None:
        raise Unreadable(refused)
    if data.startswith(PDF_MAGIC):
        text = _pdf_text(filename, data, limits)
    elif data.startswith(ZIP_MAGIC):
        text = _docx_text(filename, data, limits)
    elif _textual(filename, mimetype):
        text = _decoded(filename, data)
        return _text_file_source(filename, text, limits)
    else:
        raise Unreadable(f"I can't read {_name(filename)}: I read {READABLE_KINDS} files.")
    return _described(filename, text, limits)


def _textual(filename: str, mimetype: str) -> bool:
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    media = mimetype.split(";", 1)[0].strip().lower()
    return extension in TEXT_EXTENSIONS or media.startswith("text/") or media in TEXT_MIMETYPES


def _decoded(filename: str, data: bytes) -> str:
    if b"\x00" in data[:8192]:
        raise Unreadable(f"I can't read {_name(filename)}: it isn't text, though its name says so.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Unreadable(f"I can't read {_name(filename)}: it isn't UTF-8 text.") from None


def _text_file_source(filename: str, text: str, limits: IntakeLimits) -> JobSource:
    if not text.strip():
        raise Unreadable(f"{_name(filename)} is empty.")
    source = detect(text, limits=limits)
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if not source.structured and extension in ("json", "jsonld", "xml"):
        raise Unreadable(f"{_name(filename)} is not a posting I know: I read a schema.org JobPosting or an "
                         "OpenTrain job in JSON, and an Indeed <job> or an HR-XML <PositionOpening> in XML.")
    if not source.structured:
        return _described(filename, text, limits)
    return source.model_copy(update={"title": source.title or _first_line(filename)})


def _described(filename: str, text: str, limits: IntakeLimits) -> JobSource:
    words = text.strip()
    if not words:
        raise Unreadable(f"{_name(filename)} has no text I can read (is it a scanned image?).")
    _check_length(words, limits, what=_name(filename))
    return JobSource(format=TEXT, payload=words, title=_first_line(words))


def _pdf_text(filename: str, data: bytes, limits: IntakeLimits) -> str:
    capped = {name: limits.max_pdf_stream_bytes for name in PDF_STREAM_CAPS}
    try:
        with apply_configuration(None, **capped):  # this thread's context only
            return _pages_text(filename, PdfReader(io.BytesIO(data)), limits)
    except Unreadable:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError, OSError):
        raise Unreadable(f"I couldn't read {_name(filename)} as a PDF; it may be damaged.") from None


def _pages_text(filename: str, reader: PdfReader, limits: IntakeLimits) -> str:
    if reader.is_encrypted and not reader.decrypt(""):
        raise Unreadable(f"{_name(filename)} is password-protected; please share it without a password.")
    pages = len(reader.pages)
    if pages > limits.max_pdf_pages:
        raise Unreadable(f"{_name(filename)} has {pages:,} pages; I read job descriptions of up to "
                         f"{limits.max_pdf_pages} pages.")
    parts: list[str] = []
    length = 0
    for page in reader.pages:
        part = page.extract_text() or ""
        parts.append(part)
        length += len(part)
        if length > limits.max_chars:
            break  # already too long to send: the caller's check says so
    return "\n".join(parts)


def _docx_text(filename: str, data: bytes, limits: IntakeLimits) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            _check_zip(filename, archive, limits)
            if DOCX_BODY not in archive.namelist():
                raise Unreadable(f"I can't read {_name(filename)}: it is an archive, not a Word document. "
                                 f"I read {READABLE_KINDS} files.")
            with archive.open(DOCX_BODY) as part:
                body = part.read(limits.max_unzipped_bytes + 1)  # headers can lie: never inflate past the cap
        if len(body) > limits.max_unzipped_bytes:
            raise Unreadable(_bomb(filename))
        root = SafeET.fromstring(body, forbid_dtd=True)
    except Unreadable:
        raise
    except DefusedXmlException:
        raise Unreadable(f"{_name(filename)} contains XML with a DTD or entities, which I don't read.") from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, SafeET.ParseError, ValueError, OSError, EOFError,
            NotImplementedError):
        raise Unreadable(f"I couldn't read {_name(filename)} as a Word document; it may be damaged.") from None
    return "\n".join(_paragraph_text(paragraph) for paragraph in root.iter(f"{WORD_NS}p"))


def _check_zip(filename: str, archive: zipfile.ZipFile, limits: IntakeLimits) -> None:
    members = archive.infolist()
    if len(members) > limits.max_zip_members:
        raise Unreadable(_bomb(filename))
    if sum(member.file_size for member in members) > limits.max_unzipped_bytes:
        raise Unreadable(_bomb(filename))
    for member in members:
        if member.file_size > 1024 * 1024 and member.file_size > limits.max_zip_ratio * max(member.compress_size, 1):
            raise Unreadable(_bomb(filename))


def _bomb(filename: str) -> str:
    return f"{_name(filename)} unpacks to far more than a job description could be, so I didn't open it."


def _paragraph_text(paragraph: Element) -> str:
    pieces = []
    for element in paragraph.iter():
        if element.tag == f"{WORD_NS}t":
            pieces.append(element.text or "")
        elif element.tag == f"{WORD_NS}tab":
            pieces.append("\t")
        elif element.tag in (f"{WORD_NS}br", f"{WORD_NS}cr"):
            pieces.append("\n")
    return "".join(pieces)


# ---- small helpers ----------------------------------------------------------------------------------------------

def _check_length(text: str, limits: IntakeLimits, *, what: str = "That posting") -> None:
    if len(text) > limits.max_chars:
        raise Unreadable(f"{what} is {len(text):,} characters; OpenTrain accepts at most {limits.max_chars:,}. "
                         "Please shorten it and try again.")


def _has_text(data: dict[str, Any], *keys: str) -> bool:
    return any(isinstance(data.get(key), str) and data[key].strip() for key in keys)


def _title_of(data: dict[str, Any], *keys: str) -> str:
    return next((_first_line(data[key]) for key in keys if isinstance(data.get(key), str) and data[key].strip()), "")


def _local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _element_text(element: Element) -> str:
    return "".join(element.itertext()).strip()


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")[:200]


def _name(filename: str) -> str:
    return f'"{filename[:80]}"' if filename else "That file"


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"
