"""RFC 6962 reference vectors and property tests, for the verifier and the stored tree alike."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yaosu.audit import log
from yaosu.audit.verify import (
    VerificationError,
    leaf_hash,
    root_of,
    roots_at,
    verify_consistency,
    verify_inclusion,
)

VECTORS = json.loads((Path(__file__).parent / "testdata" / "rfc6962.json").read_text())
LEAVES = [leaf_hash(bytes.fromhex(x)) for x in VECTORS["leaves"]]
ROOTS = [bytes.fromhex(r) for r in VECTORS["roots"]]


class MemoryTree:
    """The stored tree's proof planning (yaosu.audit.log) over an in-memory node table."""

    def __init__(self, leaves: list[bytes]) -> None:
        self.nodes: dict[tuple[int, int], bytes] = {}
        edge: list[str] = []
        for i, leaf in enumerate(leaves):
            grown, edge = log._grow(i, leaf, edge)
            self.nodes.update({(lv, ix): h for lv, ix, h in grown})

    def hashes(self, ranges: list[tuple[int, int]]) -> list[bytes]:
        return [log._range_hash(self.nodes, s, e) for s, e in ranges]

    def root(self, size: int) -> bytes:
        return self.hashes([(0, size)])[0]

    def inclusion(self, index: int, size: int) -> list[bytes]:
        return self.hashes(log._path(index, 0, size))

    def consistency(self, old: int, new: int) -> list[bytes]:
        return self.hashes(log._subproof(old, 0, new, True))


TREE = MemoryTree(LEAVES)


def test_roots_for_sizes_1_to_8() -> None:
    for size in range(1, 9):
        assert root_of(LEAVES[:size]) == ROOTS[size - 1]
        assert TREE.root(size) == ROOTS[size - 1]
    assert roots_at(LEAVES, range(1, 9)) == {s: ROOTS[s - 1] for s in range(1, 9)}
    assert root_of([]).hex() == VECTORS["empty_root"]


@pytest.mark.parametrize("case", VECTORS["inclusion"], ids=lambda c: f"{c['index']}-of-{c['size']}")
def test_inclusion_vectors(case: dict) -> None:
    proof = [bytes.fromhex(h) for h in case["proof"]]
    index, size = case["index"], case["size"]
    assert TREE.inclusion(index, size) == proof
    verify_inclusion(index, size, LEAVES[index], proof, ROOTS[size - 1])
    # exact length: one hash more or less fails
    with pytest.raises(VerificationError):
        verify_inclusion(index, size, LEAVES[index], [*proof, ROOTS[0]], ROOTS[size - 1])
    if proof:
        with pytest.raises(VerificationError):
            verify_inclusion(index, size, LEAVES[index], proof[:-1], ROOTS[size - 1])
    with pytest.raises(VerificationError):
        verify_inclusion(index + 1, size, LEAVES[index], proof, ROOTS[size - 1])


@pytest.mark.parametrize(
    "case", VECTORS["consistency"], ids=lambda c: f"{c['size1']}-to-{c['size2']}"
)
def test_consistency_vectors(case: dict) -> None:
    proof = [bytes.fromhex(h) for h in case["proof"]]
    m, n = case["size1"], case["size2"]
    if m < n:
        assert TREE.consistency(m, n) == proof
    verify_consistency(m, n, proof, ROOTS[m - 1], ROOTS[n - 1])
    if proof:
        with pytest.raises(VerificationError):
            verify_consistency(m, n, proof[:-1], ROOTS[m - 1], ROOTS[n - 1])
        with pytest.raises(VerificationError):
            verify_consistency(m, n, [*proof, ROOTS[0]], ROOTS[m - 1], ROOTS[n - 1])
        with pytest.raises(VerificationError):
            verify_consistency(m, n, proof, ROOTS[n - 1], ROOTS[m - 1])


def test_edge_rules() -> None:
    some = bytes(32)
    with pytest.raises(VerificationError):
        verify_consistency(0, 5, [some], some, ROOTS[4])  # no consistency proof from size 0
    verify_consistency(0, 5, [], some, ROOTS[4])  # the empty tree is a prefix of every tree
    with pytest.raises(VerificationError):
        verify_consistency(3, 2, [], ROOTS[2], ROOTS[1])  # time does not run backwards
    with pytest.raises(VerificationError):
        verify_inclusion(0, 1, LEAVES[0][:31], [], ROOTS[0])  # hashes are 32 bytes
    with pytest.raises(VerificationError):
        verify_inclusion(0, 0, LEAVES[0], [], ROOTS[0])
    with pytest.raises(ValueError):
        log.consistency_proof(None, old=0, new=3)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        log.inclusion_proof(None, index=3, tree_size=3)  # type: ignore[arg-type]


def flip(h: bytes, bit: int) -> bytes:
    b = bytearray(h)
    b[bit // 8 % len(b)] ^= 1 << (bit % 8)
    return bytes(b)


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 300), st.data())
def test_every_inclusion_proof_verifies_and_any_bit_flip_fails(
    size: int, data: st.DataObject
) -> None:
    leaves = [leaf_hash(i.to_bytes(4, "big")) for i in range(size)]
    tree = MemoryTree(leaves)
    index = data.draw(st.integers(0, size - 1))
    root = root_of(leaves)
    proof = tree.inclusion(index, size)
    verify_inclusion(index, size, leaves[index], proof, root)
    assert len(proof) <= size.bit_length()
    bit = data.draw(st.integers(0, 255))
    with pytest.raises(VerificationError):
        verify_inclusion(index, size, flip(leaves[index], bit), proof, root)
    with pytest.raises(VerificationError):
        verify_inclusion(index, size, leaves[index], proof, flip(root, bit))
    if proof:
        k = data.draw(st.integers(0, len(proof) - 1))
        with pytest.raises(VerificationError):
            verify_inclusion(
                index, size, leaves[index], [*proof[:k], flip(proof[k], bit), *proof[k + 1 :]], root
            )


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 300), st.data())
def test_every_consistency_proof_verifies_and_any_bit_flip_fails(
    size: int, data: st.DataObject
) -> None:
    leaves = [leaf_hash(i.to_bytes(4, "big")) for i in range(size)]
    tree = MemoryTree(leaves)
    old = data.draw(st.integers(1, size))
    r1, r2 = root_of(leaves[:old]), root_of(leaves)
    proof = tree.consistency(old, size) if old < size else []
    verify_consistency(old, size, proof, r1, r2)
    bit = data.draw(st.integers(0, 255))
    with pytest.raises(VerificationError):
        verify_consistency(old, size, proof, flip(r1, bit), r2)
    with pytest.raises(VerificationError):
        verify_consistency(old, size, proof, r1, flip(r2, bit))
    if proof:
        k = data.draw(st.integers(0, len(proof) - 1))
        with pytest.raises(VerificationError):
            verify_consistency(
                old, size, [*proof[:k], flip(proof[k], bit), *proof[k + 1 :]], r1, r2
            )


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**60), 2**60)
    | st.text()
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(st.text(), st.text(), json_values)
def test_canonical_entries_are_rfc8785_byte_for_byte(
    action: str, reason: str, detail: object
) -> None:
    import datetime as dt

    import rfc8785

    entry = {
        "at": dt.datetime(2026, 11, 30, 4, 5, 6, 789, tzinfo=dt.UTC),
        "actor_id": "usr_1",
        "actor_org_id": None,
        "action": action,
        "object_type": "dataset",
        "object_id": "ds_农",
        "object_org_id": "org_1",
        "decision": "allow",
        "reason": reason,
        "request_hash": "0" * 64,
        "detail": {"x": detail},
    }
    try:
        expected = rfc8785.dumps(
            {
                name: entry[col] if name != "at" else "2026-11-30T04:05:06.000789Z"
                for name, col in log.FIELDS
            }
        )
    except (rfc8785.CanonicalizationError, ValueError):
        return  # what RFC 8785 cannot represent (lone surrogates, huge integers) is not compared
    assert log.canonical(entry) == expected
