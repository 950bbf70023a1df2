"""Ed25519 keys in the C2SP signed-note formats, and the log's own key on disk.

A private key file holds ``PRIVATE+KEY+<name>+<hex key id>+<base64(type || seed)>`` (the
form Go's note package uses); its verifier key is ``<name>+<hex key id>+<base64(type ||
public key)>``. The log's key lives in a file outside the database, mode 0600.
"""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from yaosu.audit.verify import COSIGNATURE, ED25519, Verifier, key_id
from yaosu.kernel.keys import read_or_create


@dataclass(frozen=True)
class Signer:
    name: str
    kind: int  # ED25519 for the log, COSIGNATURE for a witness
    private: Ed25519PrivateKey

    @classmethod
    def generate(cls, name: str, kind: int = ED25519) -> Signer:
        if not name or any(c.isspace() or c == "+" for c in name):
            raise ValueError("a key name must be non-empty, without spaces or '+'")
        return cls(name, kind, Ed25519PrivateKey.generate())

    @classmethod
    def parse(cls, text: str) -> Signer:
        parts = text.strip().split("+", 4)  # base64 may hold "+"
        if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
            raise ValueError("not a signed-note private key")
        raw = base64.b64decode(parts[4], validate=True)
        signer = cls(parts[2], raw[0], Ed25519PrivateKey.from_private_bytes(raw[1:]))
        if signer.verifier_key().split("+")[1] != parts[3]:
            raise ValueError("private key: key id does not match")
        return signer

    @property
    def public(self) -> bytes:
        return self.private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    def verifier(self) -> Verifier:
        return Verifier(self.name, self.kind, self.public)

    def verifier_key(self) -> str:
        return str(self.verifier())

    def private_key(self) -> str:
        from cryptography.hazmat.primitives.serialization import NoEncryption, PrivateFormat

        seed = self.private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        material = base64.b64encode(bytes([self.kind]) + seed).decode()
        return (
            f"PRIVATE+KEY+{self.name}+{key_id(self.name, self.kind, self.public).hex()}+{material}"
        )

    def sign(self, body: str, *, timestamp: int | None = None) -> str:
        """A signature line for a note body: the log's own, or a witness's cosignature."""
        prefix = key_id(self.name, self.kind, self.public)
        if self.kind == COSIGNATURE:
            stamp = int(time.time()) if timestamp is None else timestamp
            message = f"cosignature/v1\ntime {stamp}\n{body}".encode()
            blob = prefix + stamp.to_bytes(8, "big") + self.private.sign(message)
        else:
            blob = prefix + self.private.sign(body.encode())
        return f"— {self.name} {base64.b64encode(blob).decode()}"


def load_or_create(path: Path, name: str, kind: int = ED25519) -> Signer:
    """The key at ``path``; created (0600, in a 0700 folder) the first time, atomically even
    when several processes ask at once (``yaosu.kernel.keys``)."""
    text = read_or_create(path, lambda: Signer.generate(name, kind).private_key() + "\n")
    signer = Signer.parse(text)
    if signer.name != name:
        raise ValueError(f"{path} holds the key of {signer.name!r}, not {name!r}")
    return signer
