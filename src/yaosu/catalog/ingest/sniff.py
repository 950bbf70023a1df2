"""What a file is: its format (by content, checked against its name), encoding and delimiter."""

from __future__ import annotations

import codecs
import csv
import json
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path

from yaosu.catalog.ingest.errors import (
    EmptyFile,
    FormatMismatch,
    JsonNotRecords,
    NotText,
    UndetectableEncoding,
    UnsupportedFormat,
)
from yaosu.catalog.labels import FILE_FORMAT
from yaosu.kernel.i18n import _
from yaosu.kernel.i18n import label as label_of

SAMPLE_BYTES = 1024 * 1024

# extension -> format family
EXTENSIONS = {
    ".csv": "csv",
    ".tsv": "csv",
    ".tab": "csv",
    ".txt": "csv",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".json": "json",
    ".ndjson": "json",
    ".jsonl": "json",
    ".parquet": "parquet",
    ".pq": "parquet",
}


@dataclass(frozen=True)
class Sniffed:
    format: str  # csv | xlsx | json | parquet
    encoding: str | None = None  # Python codec name used to decode text
    encoding_label: str | None = None  # what we tell the user: UTF-8, GBK, GB18030, UTF-16
    delimiter: str | None = None


def sniff(path: Path, filename: str) -> Sniffed:
    size = path.stat().st_size
    with path.open("rb") as fh:
        head = fh.read(SAMPLE_BYTES)
        fh.seek(max(0, size - 4))
        tail = fh.read(4)
    if not head.strip(b" \t\r\n\x00\xef\xbb\xbf"):
        raise EmptyFile(filename=filename)

    family = _family_by_content(path, head, tail)
    ext = Path(filename).suffix.lower()
    claimed = EXTENSIONS.get(ext)
    if ext and claimed is None:
        raise UnsupportedFormat(extension=ext, detected=label_of(FILE_FORMAT, family))
    if family == "binary":  # NUL bytes: not text in any encoding we read
        raise NotText(extension=ext or filename, offset=head.find(b"\x00"))
    if claimed == "json" and family == "csv":
        _refuse_json_scalar(head)
    if claimed and claimed != family:
        raise FormatMismatch(extension=ext, detected=label_of(FILE_FORMAT, family))
    if family not in ("csv", "json", "xlsx", "parquet"):
        raise UnsupportedFormat(extension=ext or family, detected=label_of(FILE_FORMAT, family))

    if family in ("xlsx", "parquet"):
        return Sniffed(family)
    codec, label = detect_encoding(path, head, size)
    if family == "json":
        return Sniffed("json", codec, label)
    text = _decode_sample(head, codec, whole=size <= SAMPLE_BYTES)
    delimiter = "\t" if ext in (".tsv", ".tab") else sniff_delimiter(text)
    return Sniffed("csv", codec, label, delimiter)


def _family_by_content(path: Path, head: bytes, tail: bytes) -> str:
    if head.startswith(b"PAR1"):
        return "parquet"  # a missing footer is reported as corrupt by the reader
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(path) as zf:
                names = set(zf.namelist())
        except (zipfile.BadZipFile, OSError):
            return "xlsx" if path.suffix.lower() in (".xlsx", ".xlsm") else "zip"
        return "xlsx" if "xl/workbook.xml" in names else "zip"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "xls"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _text_family(head.decode("utf-16", errors="ignore"))
    bomless = bomless_utf16(head)
    if bomless:
        return _text_family(head.decode(bomless, errors="ignore"))
    if b"\x00" in head:
        return "binary"
    stripped = head.lstrip(codecs.BOM_UTF8 + b" \t\r\n")
    return _text_family(stripped[:1].decode("latin-1"))


def bomless_utf16(head: bytes) -> str | None:
    r"""UTF-16 without a byte-order mark, told by where its NULs fall: the ASCII characters of
    a CSV (delimiters, digits, line breaks) have a zero high byte, so one byte parity is full of
    NULs and the other has almost none. The sample must then decode to text without control bytes.

    >>> bomless_utf16("名称,值\n城关镇,12\n".encode("utf-16-le")), bomless_utf16(b"a,b\n1,2\n")
    ('utf-16-le', None)
    """
    sample = head[: min(len(head), 1 << 16) // 2 * 2]
    pairs = len(sample) // 2
    if pairs < 2:
        return None
    low, high = sample[0::2].count(0), sample[1::2].count(0)
    enough = max(2, 0.2 * pairs)  # a CJK character's byte can be zero too (销 is U+9500)
    if high >= enough and low <= high / 8:
        codec = "utf-16-le"
    elif low >= enough and high <= low / 8:
        codec = "utf-16-be"
    else:
        return None
    text = codecs.getincrementaldecoder(codec)(errors="strict")
    try:
        decoded = text.decode(sample, final=False)
    except UnicodeDecodeError:
        return None
    controls = (c for c in decoded if c not in "\t\r\n")
    if any(unicodedata.category(c) == "Cc" for c in controls):
        return None
    if not any(mark in decoded for mark in "\n,\t;|"):
        return None  # text, but not a table's
    return codec


def _refuse_json_scalar(head: bytes) -> None:
    """A file named .json that holds one number, string, boolean or null: JSON, not a table."""
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n")
    try:
        value, _end = json.JSONDecoder().raw_decode(text)
    except ValueError:
        return  # not JSON at all: the caller reports what the content is
    if isinstance(value, bool):
        kind = _("boolean")
    elif isinstance(value, int | float):
        kind = _("number")
    elif isinstance(value, str):
        kind = _("string")
    elif value is None:
        kind = _("null")
    else:  # pragma: no cover - objects and arrays are the json family
        return
    raise JsonNotRecords(kind=kind)


def _text_family(text: str) -> str:
    return "json" if text.lstrip("\ufeff \t\r\n")[:1] in ("{", "[") else "csv"


def detect_encoding(path: Path, head: bytes, size: int) -> tuple[str, str]:
    """UTF-8 (with or without BOM), GBK, GB18030 or UTF-16 with BOM, told apart by decoding.

    A pure-ASCII start says nothing, so we look further, to the first non-ASCII
    byte, before deciding. GBK text is decoded with the GB18030 codec, its
    superset, so rare characters later in a "GBK" file still decode.
    """
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8", "UTF-8"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16", "UTF-16"
    bomless = bomless_utf16(head)
    if bomless:
        return bomless, bomless.upper().replace("UTF-16-", "UTF-16")
    window, whole = head, size <= len(head)
    if head.isascii() and not whole:
        window, whole = _first_non_ascii_window(path)
    if window.isascii():
        return "utf-8", "UTF-8"
    for codec, label in (("utf-8", "UTF-8"), ("gbk", "GBK"), ("gb18030", "GB18030")):
        try:
            _decode_sample(window, codec, whole=whole, strict=True)
        except UnicodeDecodeError:
            continue
        return ("gb18030" if codec == "gbk" else codec), label
    try:
        _decode_sample(window, "gb18030", whole=whole, strict=True)
    except UnicodeDecodeError as exc:
        offset = exc.start
    else:  # pragma: no cover - loop above would have returned
        offset = 0
    raise UndetectableEncoding(offset=offset)


def _first_non_ascii_window(path: Path) -> tuple[bytes, bool]:
    with path.open("rb") as fh:
        while chunk := fh.read(SAMPLE_BYTES):
            if not chunk.isascii():
                start = next(i for i, b in enumerate(chunk) if b > 0x7F)
                # Back up to a line start: a newline is never inside a GBK/GB18030 character.
                line_start = chunk.rfind(b"\n", 0, start) + 1
                fh.seek(fh.tell() - len(chunk) + line_start)
                window = fh.read(SAMPLE_BYTES)
                return window, len(fh.read(1)) == 0
    return b"", True


def _decode_sample(data: bytes, codec: str, *, whole: bool, strict: bool = False) -> str:
    """Decode a sample that may end mid-character (unless it is the whole file)."""
    decoder = codecs.getincrementaldecoder(codec)(errors="strict" if strict else "replace")
    return decoder.decode(data, final=whole)


def sniff_delimiter(text: str) -> str:
    lines = [line for line in text.splitlines()[:50] if line.strip()]
    if len(lines) > 1 and not text.endswith("\n"):
        lines = lines[:-1]  # the sample's last line may be cut short
    sample = "\n".join(lines)
    try:
        return csv.Sniffer().sniff(sample, delimiters=",\t;|").delimiter
    except csv.Error:
        # One column, or a sample the sniffer cannot decide: count candidates in the header.
        header = lines[0] if lines else ""
        counts = {d: header.count(d) for d in ",\t;|"}
        best = max(counts, key=lambda d: counts[d])
        return best if counts[best] else ","
