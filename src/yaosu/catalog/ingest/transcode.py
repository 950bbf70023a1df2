"""Decode GBK/GB18030 (or UTF-16) to UTF-8 in a helper process, in parallel with parsing.

CPython's CJK codecs hold the GIL and run at about 200 MB/s, so decoding in the
parsing process would serialise the two steps. Here a small child process (no
imports beyond the standard library) reads the file, hashes it, decodes it, and
pipes UTF-8 to Arrow's parser. A decode error makes the child exit non-zero with
the byte offset; the caller checks the exit status before trusting the stream.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import IO

# Runs with ``python -I -S -c``: isolated, no site-packages, starts in milliseconds.
_CHILD = r"""
import codecs, hashlib, json, sys
encoding, path = sys.argv[1], sys.argv[2]
decoder = codecs.getincrementaldecoder(encoding)("strict")
digest, offset, out = hashlib.sha256(), 0, sys.stdout.buffer
try:
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 22):
            digest.update(chunk)
            try:
                text = decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                sys.stderr.write(json.dumps({"error": "decode", "offset": offset + exc.start}))
                sys.exit(3)
            offset += len(chunk)
            out.write(text.encode("utf-8"))
        try:
            out.write(decoder.decode(b"", final=True).encode("utf-8"))
        except UnicodeDecodeError:
            sys.stderr.write(json.dumps({"error": "decode", "offset": offset}))
            sys.exit(3)
    out.flush()
except BrokenPipeError:
    sys.stderr.write(json.dumps({"error": "closed"}))
    sys.exit(4)
sys.stderr.write(json.dumps({"sha256": digest.hexdigest(), "bytes": offset}))
"""


class Transcoder:
    def __init__(self, path: Path, encoding: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-I", "-S", "-c", _CHILD, encoding, str(path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            bufsize=1 << 20,
        )

    @property
    def stdout(self) -> IO[bytes]:
        assert self.proc.stdout is not None
        return self.proc.stdout

    def finish(self) -> dict[str, object]:
        """Wait for the child; returns its report ({"sha256", "bytes"} or {"error", "offset"})."""
        assert self.proc.stderr is not None
        self.stdout.close()
        report = self.proc.stderr.read().decode("utf-8", "replace").strip()
        self.proc.stderr.close()
        self.proc.wait()
        try:
            parsed: dict[str, object] = json.loads(report.splitlines()[-1]) if report else {}
        except ValueError:
            parsed = {}
        if self.proc.returncode != 0 and "error" not in parsed:
            parsed = {"error": "crashed", "code": self.proc.returncode}
        return parsed

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()
