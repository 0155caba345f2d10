"""Image files made by the tests: PNGs of any size written row by row (a 6,300×6,300 one is a few
hundred KB on disk and never exists as an array here), and files that only pretend to be PNGs."""
import struct
import zlib


def _chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_file(width, height, rgba=True, stroke=True, header_only=False):
    """A valid PNG, black (transparent for RGBA), with one white vertical stroke in the middle third."""
    channels = 4 if rgba else 1
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 6 if rgba else 0, 0, 0, 0)
    out = [b"\x89PNG\r\n\x1a\n", _chunk(b"IHDR", ihdr)]
    if not header_only:
        blank = b"\x00" * (width * channels)
        ink = bytearray(blank)
        left, right = width * 9 // 20, width * 11 // 20
        ink[left * channels:right * channels] = b"\xff" * ((right - left) * channels)
        compressor = zlib.compressobj(1)
        data = []
        for row in range(height):
            inked = stroke and height // 3 <= row < 2 * height // 3
            data.append(compressor.compress(b"\x00" + (bytes(ink) if inked else blank)))
        data.append(compressor.flush())
        out.append(_chunk(b"IDAT", b"".join(data)))
    out.append(_chunk(b"IEND", b""))
    return b"".join(out)


EPS_AS_PNG = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 100 100\nnewpath 10 10 moveto 90 90 lineto stroke\n"
