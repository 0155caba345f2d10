"""Read and write IDX files, the format MNIST and Fashion-MNIST ship in.

An IDX file is a tiny header followed by a raw array:

    bytes 0-1   zero
    byte  2     dtype code (0x08 = uint8, ...)
    byte  3     number of dimensions, d
    then d big-endian uint32 sizes, then the data, row-major, big-endian.

The files are usually gzip-compressed (``*.gz``); ``read_idx`` accepts both
and tells them apart by their first bytes, not by their name.  Anything that
does not match exactly (wrong magic, unknown dtype, a payload that is too
short or too long, damaged gzip data) raises ``ValueError`` naming the file.
"""

import gzip
import os
import zlib

import numpy as np

# IDX dtype code -> numpy dtype (multi-byte types are big-endian on disk).
IDX_DTYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

GZIP_MAGIC = b"\x1f\x8b"


def read_idx(path):
    """Read an IDX file (gzip-compressed or raw) into a numpy array."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:2] == GZIP_MAGIC:
        data = _gunzip(data, path)
    return parse_idx(data, name=os.fspath(path))


def _gunzip(data, path):
    """Decompress gzip bytes; damaged or truncated data raises ValueError."""
    try:
        return gzip.decompress(data)  # checks the CRC-32 and length trailer
    except (OSError, EOFError, zlib.error) as e:
        raise ValueError(f"{path}: damaged or truncated gzip data ({e})") from None


def parse_idx(data, name="<bytes>"):
    """Parse the bytes of an uncompressed IDX file into a numpy array."""
    if len(data) < 4:
        raise ValueError(f"{name}: too short for an IDX header ({len(data)} bytes, expected at least 4)")
    if data[0] != 0 or data[1] != 0:
        raise ValueError(f"{name}: not an IDX file (expected the first two bytes to be 0x00 0x00, "
                         f"got 0x{data[0]:02x} 0x{data[1]:02x})")
    code, ndim = data[2], data[3]
    if code not in IDX_DTYPES:
        known = ", ".join(f"0x{c:02x}" for c in IDX_DTYPES)
        raise ValueError(f"{name}: unknown IDX dtype code 0x{code:02x} (expected one of {known})")
    if ndim == 0:
        raise ValueError(f"{name}: IDX header says 0 dimensions (expected at least 1)")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(f"{name}: truncated IDX header ({len(data)} bytes, expected {header} "
                         f"for {ndim} dimensions)")
    shape = tuple(int(s) for s in np.frombuffer(data, ">u4", count=ndim, offset=4))
    dtype = IDX_DTYPES[code]
    expected = header + int(np.prod(shape)) * dtype.itemsize
    if len(data) != expected:
        raise ValueError(f"{name}: IDX payload has the wrong length: shape {shape} of {dtype.name} "
                         f"needs {expected:,} bytes in all, the file has {len(data):,}")
    array = np.frombuffer(data, dtype, offset=header).reshape(shape)
    return array.astype(dtype.newbyteorder("="))  # native byte order, writable copy


def idx_bytes(array):
    """Encode a numpy array as the bytes of an uncompressed IDX file."""
    array = np.asarray(array)
    codes = {dt.newbyteorder("="): code for code, dt in IDX_DTYPES.items()}
    native = array.dtype.newbyteorder("=")
    if native not in codes:
        raise ValueError(f"cannot store dtype {array.dtype} in IDX (expected one of "
                         f"{', '.join(str(d) for d in codes)})")
    header = bytes([0, 0, codes[native], array.ndim])
    header += np.array(array.shape, ">u4").tobytes()
    return header + array.astype(IDX_DTYPES[codes[native]]).tobytes()


def write_idx(path, array):
    """Write ``array`` as an IDX file; gzip it when ``path`` ends in ``.gz``."""
    data = idx_bytes(array)
    if os.fspath(path).endswith(".gz"):
        data = gzip.compress(data, mtime=0)
    with open(path, "wb") as f:
        f.write(data)
