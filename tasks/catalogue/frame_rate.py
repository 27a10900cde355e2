"""A video's frame rate, read once when the asset is stored (``Asset.frame_rate``).

ffprobe where installed (the video stream's ``r_frame_rate``, else ``avg_frame_rate``); without
it, an mp4/mov's own sample table (the video track's ``mdhd`` timescale over its most common
``stts`` sample duration) — enough for the H.264 files generators produce. WebM without ffprobe,
audio and scripts: no frame rate (notes then carry times only, and the page steps 1/24 s).
"""
from __future__ import annotations

import json
import shutil
import struct
import subprocess
from collections import Counter
from fractions import Fraction
from pathlib import Path
from typing import BinaryIO

MAX_RATE = 1000.0
MAX_MOOV_BYTES = 64 * 1024 * 1024
CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl"}


def parse_rate(text: str | None) -> float | None:
    """``"30000/1001"`` or ``"24"`` as frames a second; None for ``"0/0"`` and nonsense."""
    try:
        rate = float(Fraction(str(text)))
    except (ValueError, ZeroDivisionError):
        return None
    return round(rate, 6) if 0 < rate <= MAX_RATE else None


def from_ffprobe_json(output: bytes | str) -> float | None:
    """The rate from ``ffprobe -show_entries stream=r_frame_rate,avg_frame_rate -of json``."""
    try:
        streams = json.loads(output).get("streams") or []
    except (ValueError, AttributeError):
        return None
    for stream in streams:
        rate = parse_rate(stream.get("r_frame_rate")) or parse_rate(stream.get("avg_frame_rate"))
        if rate:
            return rate
    return None


def _ffprobe(path: Path) -> float | None:
    try:
        out = subprocess.run(
            ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
             "stream=r_frame_rate,avg_frame_rate", "-of", "json", str(path)],
            capture_output=True, timeout=20, check=True).stdout
    except (subprocess.SubprocessError, OSError):
        return None
    return from_ffprobe_json(out)


def _boxes(data: bytes, start: int = 0, end: int | None = None):
    """(type, payload start, payload end) of the ISO-BMFF boxes in ``data[start:end]``."""
    end = len(data) if end is None else end
    at = start
    while at + 8 <= end:
        size, kind = struct.unpack(">I4s", data[at:at + 8])
        header = 8
        if size == 1 and at + 16 <= end:
            size, header = struct.unpack(">Q", data[at + 8:at + 16])[0], 16
        elif size == 0:
            size = end - at
        if size < header or at + size > end:
            return
        yield kind, at + header, at + size
        at += size


def _moov(handle: BinaryIO) -> bytes | None:
    """The ``moov`` box's bytes, wherever it sits among the top-level boxes."""
    handle.seek(0, 2)
    file_end = handle.tell()
    at = 0
    while at + 8 <= file_end:
        handle.seek(at)
        head = handle.read(16)
        size, kind = struct.unpack(">I4s", head[:8])
        header = 8
        if size == 1:
            size, header = struct.unpack(">Q", head[8:16])[0], 16
        elif size == 0:
            size = file_end - at
        if size < header:
            return None
        if kind == b"moov":
            if size > MAX_MOOV_BYTES:
                return None
            handle.seek(at)
            return handle.read(size)
        at += size
    return None


def _video_rate(data: bytes, start: int, end: int) -> float | None:
    """Within a ``trak``: the rate, when its handler is video."""
    handler = timescale = None
    deltas: Counter = Counter()

    def walk(a: int, b: int) -> None:
        nonlocal handler, timescale
        for kind, s, e in _boxes(data, a, b):
            if kind in CONTAINERS:
                walk(s, e)
            elif kind == b"hdlr" and e - s >= 12:
                handler = data[s + 8:s + 12]
            elif kind == b"mdhd" and e - s >= 24:
                offset = 20 if data[s] == 1 else 12
                timescale = struct.unpack(">I", data[s + offset:s + offset + 4])[0]
            elif kind == b"stts" and e - s >= 8:
                count = struct.unpack(">I", data[s + 4:s + 8])[0]
                for i in range(min(count, (e - s - 8) // 8)):
                    n, delta = struct.unpack(">II", data[s + 8 + 8 * i:s + 16 + 8 * i])
                    deltas[delta] += n
    walk(start, end)
    if handler != b"vide" or not timescale or not deltas:
        return None
    delta = deltas.most_common(1)[0][0]
    return parse_rate(f"{timescale}/{delta}") if delta else None


def from_mp4(path: Path) -> float | None:
    """The video track's rate from an mp4/mov's sample table (None when it has none)."""
    try:
        with open(path, "rb") as handle:
            moov = _moov(handle)
    except (OSError, struct.error):
        return None
    if moov is None:
        return None
    try:
        header = 16 if struct.unpack(">I", moov[:4])[0] == 1 else 8
        for kind, s, e in _boxes(moov, header):
            if kind == b"trak":
                rate = _video_rate(moov, s, e)
                if rate:
                    return rate
    except struct.error:
        return None
    return None


def probe(path: Path, fmt: str) -> tuple[float | None, str]:
    """(frames a second or None, where it came from: ``ffprobe``, ``mp4`` or ``none``)."""
    if fmt not in ("mp4", "webm"):
        return None, "none"
    if shutil.which("ffprobe"):
        rate = _ffprobe(path)
        if rate:
            return rate, "ffprobe"
    if fmt == "mp4":
        rate = from_mp4(path)
        if rate:
            return rate, "mp4"
    return None, "none"
