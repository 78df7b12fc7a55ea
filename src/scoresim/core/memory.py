"""Arrays over a whole population that hold only a range of it.

A partition's actor works on the agents [lo, hi) of a population of n, but its kernels index
agents by their global number. ``Window(n, lo, hi).zeros(...)`` gives an array of the global
shape (agents on its last axis) that reserves address space for all n agents and backs only
[lo, hi) with memory: the rest is mapped with no access, so a kernel that touched another
range's agent would stop with a segmentation fault instead of reading or writing in silence.
Physical memory (and the process's resident size) follows the range. The whole population
(lo = 0, hi = n) gets plain NumPy arrays.

Such an array must not be read as a whole (``a.sum()``, a copy, pickling): slice its range.
"""

from __future__ import annotations

import ctypes
import mmap
from dataclasses import dataclass

import numpy as np

_LIBC = ctypes.CDLL(None, use_errno=True)
_LIBC.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
_LIBC.mprotect.restype = ctypes.c_int
PAGE = mmap.PAGESIZE
_NORESERVE = getattr(mmap, "MAP_NORESERVE", 0x4000)


@dataclass(frozen=True)
class Window:
    """The agents [lo, hi) of a population of n that an array holds."""

    n: int
    lo: int
    hi: int

    @property
    def whole(self) -> bool:
        """The window is the whole population."""
        return self.lo <= 0 and self.hi >= self.n

    def zeros(self, shape: tuple[int, ...], dtype, fill=0, extra: int = 0,
              agents_first: bool = False) -> np.ndarray:
        """An array of ``shape`` whose last axis (first, with ``agents_first``) is agents
        0, 1, ..., holding [lo, hi + extra) of it (``extra`` = 1 for a row-offset array of
        n + 1 entries)."""
        axis = 0 if agents_first else len(shape) - 1
        if self.whole or shape[axis] == 0:
            return np.full(shape, fill, dtype)
        return _windowed(shape, np.dtype(dtype), self.lo, min(self.hi + extra, shape[axis]),
                         fill, agents_first)

    def nbytes(self, a: np.ndarray, agents_first: bool = False) -> int:
        """The bytes an array of this window holds in memory (its range)."""
        axis = 0 if agents_first else a.ndim - 1
        if self.whole or a.ndim == 0 or a.shape[axis] == 0:
            return a.nbytes
        other = a.size // a.shape[axis]
        return other * max(0, min(self.hi, a.shape[axis]) - self.lo) * a.itemsize


def _protect(addr: int, length: int, prot: int) -> None:
    if length <= 0:
        return
    if _LIBC.mprotect(ctypes.c_void_p(addr), ctypes.c_size_t(length), prot) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"mprotect failed: {err}")


def _windowed(shape: tuple[int, ...], dtype: np.dtype, lo: int, hi: int, fill,
              agents_first: bool) -> np.ndarray:
    size = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    mm = mmap.mmap(-1, max(size, 1), flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | _NORESERVE,
                   prot=mmap.PROT_READ | mmap.PROT_WRITE)
    flat = np.frombuffer(mm, dtype=np.uint8, count=size)
    base = flat.ctypes.data
    _protect(base, -(-size // PAGE) * PAGE, 0)  # no access: PROT_NONE
    if agents_first:  # one block: the rows of agents [lo, hi)
        width = int(np.prod(shape[1:], dtype=np.int64)) * dtype.itemsize
        spans = [(lo * width, hi * width)]
    else:  # in every row, the columns of agents [lo, hi)
        row = shape[-1] * dtype.itemsize
        spans = [(r * row + lo * dtype.itemsize, r * row + hi * dtype.itemsize)
                 for r in range(int(np.prod(shape[:-1], dtype=np.int64)))]
    for start, end in spans:
        p0, p1 = (base + start) // PAGE * PAGE, -(-(base + end) // PAGE) * PAGE
        _protect(p0, p1 - p0, mmap.PROT_READ | mmap.PROT_WRITE)
    out = flat.view(dtype).reshape(shape)  # the mapping lives as long as a view of it
    if fill:
        if agents_first:
            out[lo:hi] = fill
        else:
            out[..., lo:hi] = fill
    return out
