"""Signing and checking right certificates. Checking needs nothing of Yaosu but this file's
imports (``cryptography`` and ``rfc8785``), so a certificate can be checked anywhere.

A certificate file is JSON: ``{"document": {...}, "signature": base64, "key": verifier key}``.
The signature is Ed25519 over ``b"yaosu-right-certificate/v1\\n"`` followed by the RFC 8785
canonical JSON of the document. The key is in the signed-note verifier format
(``name+keyid+base64(0x01 || public key)``); trust comes from a key the verifier pinned,
never from the copy inside the file.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from yaosu.audit.verify import ED25519, VerificationError, Verifier

DOMAIN = b"yaosu-right-certificate/v1\n"


def message(document: dict[str, Any], domain: bytes = DOMAIN) -> bytes:
    return domain + rfc8785.dumps(document)


def sign(private: Any, document: dict[str, Any], *, domain: bytes = DOMAIN) -> str:
    return base64.b64encode(private.sign(message(document, domain))).decode()


def check(
    certificate: dict[str, Any],
    trusted_key: str,
    *,
    now: datetime | None = None,
    domain: bytes = DOMAIN,
) -> dict[str, Any]:
    """The document of a valid certificate, or VerificationError saying what is wrong.
    ``domain`` separates kinds of document signed with the same key (a right certificate,
    a transaction certificate): one is never accepted as the other."""
    try:
        document, signature, key = (
            certificate["document"],
            certificate["signature"],
            certificate["key"],
        )
    except (KeyError, TypeError) as exc:
        raise VerificationError(
            "not a Yaosu certificate: document, signature and key are needed"
        ) from exc
    trusted = Verifier.parse(trusted_key)
    if trusted.kind != ED25519:
        raise VerificationError("the trusted key is not an Ed25519 signing key")
    if key.strip() != str(trusted):
        raise VerificationError(
            "the certificate was signed by a different key than the one trusted"
        )
    try:
        raw = base64.b64decode(signature, validate=True)
        Ed25519PublicKey.from_public_bytes(trusted.public).verify(raw, message(document, domain))
    except (ValueError, InvalidSignature) as exc:
        raise VerificationError(
            "the signature does not match the document: it was altered"
        ) from exc
    if "valid_until" in document:  # certificates expire; extract manifests do not
        until = datetime.fromisoformat(str(document["valid_until"]).replace("Z", "+00:00"))
        if (now or datetime.now(UTC)) >= until:
            raise VerificationError(f"the certificate expired at {document['valid_until']}")
    return dict(document)


def main(argv: list[str] | None = None) -> int:
    """``python -m yaosu.rights.certify CERT KEY``: check a certificate offline."""
    import sys

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        sys.stderr.write("usage: python -m yaosu.rights.certify CERTIFICATE.json VERIFIER-KEY\n")
        return 2
    with open(args[0], encoding="utf-8") as fh:
        certificate = json.load(fh)
    try:
        document = check(certificate, args[1])
    except VerificationError as exc:
        sys.stderr.write(f"INVALID: {exc}\n")
        return 1
    sys.stdout.write(
        f"VALID: {document['code']} {document['right']} {document['holder']['name']}\n"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
