"""Media formats: what the first bytes of a file show, and whether its name agrees."""
from __future__ import annotations

from pathlib import Path

# sniffed format → (media kind, MIME type, extensions a file of that format may carry)
FORMATS = {
    "mp4": ("video", "video/mp4", {".mp4", ".m4v", ".mov"}),
    "webm": ("video", "video/webm", {".webm"}),
    "wav": ("audio", "audio/wav", {".wav", ".wave"}),
    "mp3": ("audio", "audio/mpeg", {".mp3"}),
    "ogg": ("audio", "audio/ogg", {".ogg", ".oga", ".opus"}),
    "flac": ("audio", "audio/flac", {".flac"}),
    "text": ("script", "text/plain; charset=utf-8", {".txt", ".fountain", ".md", ".script", ""}),
}


class AssetError(ValueError):
    pass


def sniff(head: bytes) -> str | None:
    """The format the first bytes show, whatever the file name says (None: not media we take)."""
    if len(head) >= 12 and head[4:8] == b"ftyp":
        return "mp4"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "webm" if b"webm" in head[:64] else None
    if head.startswith(b"RIFF") and head[8:12] == b"WAVE":
        return "wav"
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0
                                   and head[1] & 0x06 != 0):
        return "mp3"
    if head.startswith(b"OggS"):
        return "ogg"
    if head.startswith(b"fLaC"):
        return "flac"
    if b"\x00" not in head:
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as exc:
            # a multi-byte character cut at the end of the sample is still text
            if exc.start < len(head) - 4:
                return None
        return "text"
    return None


def check_format(head: bytes, filename: str) -> str:
    """Sniff and check the bytes agree with the file's extension; the refusal says why."""
    fmt = sniff(head)
    ext = Path(filename or "").suffix.lower()
    if fmt is None:
        raise AssetError(f"{filename or 'the file'}: not a supported video (mp4, webm), audio "
                         "(wav, mp3, ogg, flac) or script (UTF-8 text) file")
    if ext and ext not in FORMATS[fmt][2]:
        claimed = next((name for name, spec in FORMATS.items() if ext in spec[2]), ext)
        raise AssetError(f"{filename}: the name says {claimed} but the content is {fmt}")
    return fmt
