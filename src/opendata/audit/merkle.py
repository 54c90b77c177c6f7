"""RFC 6962 / RFC 9162 Merkle tree hashing over the audit records (pure: no DB, no web).

Leaf hash ``SHA-256(0x00 || leaf)``, interior node ``SHA-256(0x01 || left || right)``, and
the tree of n leaves splits at the largest power of two smaller than n, exactly as in
RFC 6962 section 2.1, so a proof made here checks with any CT-style verifier.

``Frontier`` keeps only the roots of the perfect subtrees (at most log2 n hashes), so a
checkpoint extends the previous one by reading only the records after it.
"""

from __future__ import annotations

import hashlib

EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


class Frontier:
    """The perfect subtrees of a tree, largest (leftmost) first, as (size, hash)."""

    def __init__(self, nodes: list[tuple[int, bytes]] | None = None) -> None:
        self.nodes: list[tuple[int, bytes]] = list(nodes or [])

    @property
    def size(self) -> int:
        return sum(size for size, _ in self.nodes)

    def add(self, leaf: bytes) -> None:
        self.nodes.append((1, leaf))
        while len(self.nodes) >= 2 and self.nodes[-1][0] == self.nodes[-2][0]:
            (size, right), (_, left) = self.nodes.pop(), self.nodes.pop()
            self.nodes.append((2 * size, node_hash(left, right)))

    def root(self) -> bytes:
        # MTH(D[n]) = H(1 || MTH(first 2^k) || MTH(rest)): folding the subtrees from the
        # right is the same recursion, since the sizes are the binary digits of n.
        if not self.nodes:
            return EMPTY_ROOT
        root = self.nodes[-1][1]
        for _, left in reversed(self.nodes[:-1]):
            root = node_hash(left, root)
        return root

    def to_json(self) -> list[list]:
        return [[size, node.hex()] for size, node in self.nodes]

    @classmethod
    def from_json(cls, value: list) -> "Frontier":
        nodes = [(int(size), bytes.fromhex(node)) for size, node in value]
        sizes = [size for size, _ in nodes]
        if any(s & (s - 1) or s <= 0 for s in sizes) or sizes != sorted(sizes, reverse=True) \
                or len(set(sizes)) != len(sizes):
            raise ValueError("not a Merkle frontier")
        return cls(nodes)


def root_of(leaves: list[bytes]) -> bytes:
    frontier = Frontier()
    for leaf in leaves:
        frontier.add(leaf)
    return frontier.root()


def _largest_power_below(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def inclusion_proof(leaves: list[bytes], index: int) -> list[bytes]:
    """PATH(m, D[n]) of RFC 6962 section 2.1.1 for leaf ``index`` (0-based) of ``leaves``."""
    if not 0 <= index < len(leaves):
        raise ValueError("leaf index outside the tree")
    if len(leaves) == 1:
        return []
    k = _largest_power_below(len(leaves))
    if index < k:
        return inclusion_proof(leaves[:k], index) + [root_of(leaves[k:])]
    return inclusion_proof(leaves[k:], index - k) + [root_of(leaves[:k])]


def root_from_inclusion(index: int, tree_size: int, leaf: bytes, proof: list[bytes]) -> bytes:
    """The root that ``proof`` leads to from ``leaf`` (RFC 9162 section 2.1.3.2)."""
    if not 0 <= index < tree_size:
        raise ValueError("leaf index outside the tree")
    fn, sn, r = index, tree_size - 1, leaf
    for p in proof:
        if sn == 0:
            raise ValueError("proof longer than the tree is deep")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ValueError("proof shorter than the tree is deep")
    return r
