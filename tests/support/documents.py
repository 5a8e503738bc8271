"""Small real documents made in the tests: PDFs written by hand (one Helvetica line per text line), DOCX as the zip
Word writes, postings in each structured format, and the hostile ones (encrypted PDF, zip bomb, billion laughs)."""

from __future__ import annotations

import io
import json
import zipfile
import zlib

from pypdf import PdfReader, PdfWriter

DESCRIPTION = ("We need 10 experienced annotators for bounding boxes on 50,000 dashcam images. "
               "Pay is $18/hour. English.")


def _pdf_escape(line: str) -> str:
    return line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def pdf(text: str = DESCRIPTION, *, pages: int = 1, inflated_padding: int = 0) -> bytes:
    """A valid PDF whose every page shows `text` (wrapped at 80 characters), with a correct xref table.
    `inflated_padding`: that many spaces added to each page's content, deflated (a decompression bomb when big)."""
    lines = [text[i:i + 80] for i in range(0, len(text), 80)] or [""]
    stream = "BT /F1 11 Tf 72 720 Td 14 TL " + " ".join(f"({_pdf_escape(line)}) '" for line in lines) + " ET"
    content = f"<< /Length {len(stream)} >>\nstream\n{stream}\nendstream".encode("latin-1")
    if inflated_padding:
        deflated = zlib.compress(stream.encode("latin-1") + b" " * inflated_padding, 9)
        content = (f"<< /Length {len(deflated)} /Filter /FlateDecode >>\nstream\n".encode() + deflated
                   + b"\nendstream")
    page_ids = [4 + 2 * n for n in range(pages)]
    objects: dict[int, str | bytes] = {
        1: "<< /Type /Catalog /Pages 2 0 R >>",
        2: f"<< /Type /Pages /Kids [{' '.join(f'{p} 0 R' for p in page_ids)}] /Count {pages} >>",
        3: "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    }
    for page in page_ids:
        objects[page] = (f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {page + 1} 0 R "
                         "/Resources << /Font << /F1 3 0 R >> >> >>")
        objects[page + 1] = content
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = {}
    for number in sorted(objects):
        offsets[number] = out.tell()
        body = objects[number]
        out.write(f"{number} 0 obj\n".encode() + (body if isinstance(body, bytes) else body.encode("latin-1"))
                  + b"\nendobj\n")
    xref = out.tell()
    size = max(objects) + 1
    out.write(f"xref\n0 {size}\n0000000000 65535 f \n".encode())
    for number in range(1, size):
        out.write(f"{offsets[number]:010d} 00000 n \n".encode())
    out.write(f"trailer\n<< /Size {size} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode())
    return out.getvalue()


def encrypted_pdf(text: str = DESCRIPTION, password: str = "s3cret") -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf(text))))
    writer.encrypt(user_password=password, owner_password=password, algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>')


def docx(*paragraphs: str) -> bytes:
    """A minimal Word document: one run per paragraph."""
    body = "".join(f"<w:p><w:r><w:t xml:space=\"preserve\">{p}</w:t></w:r></w:p>" for p in paragraphs or
                   (DESCRIPTION,))
    document = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
                f"<w:body>{body}</w:body></w:document>")
    return _zip({"[Content_Types].xml": CONTENT_TYPES, "word/document.xml": document})


def docx_bomb(inflated_bytes: int = 21 * 1024 * 1024) -> bytes:
    """A DOCX whose body inflates to `inflated_bytes` of spaces from a few kilobytes."""
    padding = " " * inflated_bytes
    document = ('<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/'
                f'main"><w:body><w:p><w:r><w:t>{padding}</w:t></w:r></w:p></w:body></w:document>')
    return _zip({"[Content_Types].xml": CONTENT_TYPES, "word/document.xml": document})


def _zip(parts: dict[str, str]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
    return out.getvalue()


JSON_LD = {
    "@context": "https://schema.org", "@type": "JobPosting", "title": "Dashcam Bounding Boxes",
    "description": "<p>Draw bounding boxes around vehicles in 50,000 dashcam images.</p>",
    "employmentType": "CONTRACTOR",
    "baseSalary": {"@type": "MonetaryAmount", "currency": "USD",
                   "value": {"@type": "QuantitativeValue", "value": 18, "unitText": "HOUR"}},
}

CANONICAL = {"title": "Spanish Sentiment Labeling", "description": "Label the sentiment of 20,000 Spanish posts.",
             "paymentType": "PAY_PER_HOUR", "rateAmount": 15, "languages": ["Spanish"],
             "experienceLevel": "INTERMEDIATE"}

INDEED_XML = ('<?xml version="1.0" encoding="utf-8"?><source><publisher>Acme</publisher><job>'
              "<title>Audio Transcription Reviewers</title>"
              "<description>Review transcripts of 300 hours of English call-center audio.</description>"
              "<salary>$20 per hour</salary><country>US</country></job></source>")

HR_XML = ('<PositionOpening xmlns="http://www.hr-xml.org/3"><PositionProfile>'
          "<PositionTitle>Medical Image Segmentation</PositionTitle>"
          "<PositionFormattedDescription><Content>Segment organs in 2,000 CT scans; radiology background."
          "</Content></PositionFormattedDescription>"
          '<RemunerationPackage><BasePayAmountMin currencyID="USD">40</BasePayAmountMin>'
          "<BasePayInterval>Hour</BasePayInterval></RemunerationPackage>"
          "<NumberToFill>3</NumberToFill></PositionProfile></PositionOpening>")

BILLION_LAUGHS = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                  + "".join(f'<!ENTITY lol{n} "{("&lol" + (str(n - 1) if n > 1 else "") + ";") * 10}">'
                            for n in range(1, 10))
                  + ']><job><title>&lol9;</title></job>')

EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + bytes(200)


def json_ld_text() -> str:
    return json.dumps(JSON_LD, indent=2)


def canonical_text() -> str:
    return json.dumps(CANONICAL)
