"""The typed elements of a message body (``MsgBody``), one class per ``MsgType``.

Each element describes itself as the one-line placeholder of PRODUCT.md §4 and as searchable
text. Parsing lives in :mod:`roamtui.im.model`, which re-exports these names.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from roamtui.im.model import Message

#: Untrusted names and descriptions are cut to this many characters inside a placeholder.
SHORT = 60


def human_size(n: int) -> str:
    """Bytes as people read them: ``512 B``, ``120 KB``, ``1.8 MB``, ``2.0 GB``."""
    if n < 1024:
        return f"{n} B"
    if n >= 1 << 60:  # avoids float overflow on absurd sizes
        return f"{n >> 30} GB"
    kb = n / 1024
    if round(kb) < 1024:
        return f"{round(kb)} KB"
    mb = kb / 1024
    if round(mb, 1) < 1024:
        return f"{mb:.1f} MB"
    return f"{mb / 1024:.1f} GB"


def human_duration(seconds: int) -> str:
    """``0:07``, ``12:30``, ``1:02:03``."""
    minutes, secs = divmod(max(seconds, 0), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02}:{secs:02}" if hours else f"{minutes}:{secs:02}"


def shorten(text: str, limit: int = SHORT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _coord(x: float) -> str:
    if not math.isfinite(x) or abs(x) >= 1e6:
        return f"{x:g}"
    return f"{x:.4f}".rstrip("0").rstrip(".")


class _Elem:
    """Behaviour shared by the element classes."""

    __slots__ = ()

    def placeholder(self) -> str:
        raise NotImplementedError

    def extras(self) -> tuple[str, ...]:
        """Searchable text the placeholder does not show in full."""
        return ()

    def search_text(self) -> str:
        return "\n".join((self.placeholder(), *self.extras()))


@dataclass(frozen=True, slots=True)
class TextElem(_Elem):
    kind: ClassVar[str] = "TIMTextElem"
    text: str

    def placeholder(self) -> str:
        return self.text


@dataclass(frozen=True, slots=True)
class LocationElem(_Elem):
    kind: ClassVar[str] = "TIMLocationElem"
    desc: str
    latitude: float
    longitude: float

    def placeholder(self) -> str:
        return f'[location "{shorten(self.desc)}" {_coord(self.latitude)},{_coord(self.longitude)}]'

    def extras(self) -> tuple[str, ...]:
        return (self.desc,) if len(self.desc) > SHORT else ()


@dataclass(frozen=True, slots=True)
class FaceElem(_Elem):
    kind: ClassVar[str] = "TIMFaceElem"
    index: int
    data: str

    def placeholder(self) -> str:
        return f"[face #{self.index}]"

    def extras(self) -> tuple[str, ...]:
        return (self.data,) if self.data else ()


@dataclass(frozen=True, slots=True)
class CustomElem(_Elem):
    kind: ClassVar[str] = "TIMCustomElem"
    data: str
    desc: str
    ext: str
    sound: str

    def placeholder(self) -> str:
        shown = self.desc or self.data
        return f'[custom "{shorten(shown, 40)}"]' if shown else "[custom]"

    def extras(self) -> tuple[str, ...]:
        out = [self.desc] if len(self.desc) > 40 else []
        if self.data and (self.desc or len(self.data) > 40):
            out.append(self.data)
        return (*out, self.ext) if self.ext else tuple(out)


@dataclass(frozen=True, slots=True)
class SoundElem(_Elem):
    kind: ClassVar[str] = "TIMSoundElem"
    url: str
    uuid: str
    size: int
    seconds: int

    def placeholder(self) -> str:
        return f"[voice {human_duration(self.seconds)}]"


@dataclass(frozen=True, slots=True)
class ImageInfo:
    type: int  # 1 original, 2 large, 3 thumbnail
    size: int
    width: int
    height: int
    url: str


@dataclass(frozen=True, slots=True)
class ImageElem(_Elem):
    kind: ClassVar[str] = "TIMImageElem"
    uuid: str
    image_format: int  # 1 JPG, 2 GIF, 3 PNG, 4 BMP, 255 other
    images: tuple[ImageInfo, ...]

    def best(self) -> ImageInfo | None:
        """The original if listed, else the largest variant."""
        for info in self.images:
            if info.type == 1:
                return info
        return max(self.images, key=lambda i: (i.width * i.height, i.size), default=None)

    def placeholder(self) -> str:
        info = self.best()
        parts = ["image"]
        if info is not None:
            if info.width > 0 and info.height > 0:
                parts.append(f"{info.width}×{info.height}")
            if info.size > 0:
                parts.append(human_size(info.size))
        return f"[{' '.join(parts)}]"


@dataclass(frozen=True, slots=True)
class FileElem(_Elem):
    kind: ClassVar[str] = "TIMFileElem"
    url: str
    uuid: str
    size: int
    name: str

    def placeholder(self) -> str:
        parts = ["file"]
        if self.name:
            parts.append(shorten(self.name))
        if self.size > 0:
            parts.append(human_size(self.size))
        return f"[{' '.join(parts)}]"

    def extras(self) -> tuple[str, ...]:
        return (self.name,) if len(self.name) > SHORT else ()


@dataclass(frozen=True, slots=True)
class VideoElem(_Elem):
    kind: ClassVar[str] = "TIMVideoFileElem"
    url: str
    uuid: str
    size: int
    seconds: int
    video_format: str
    thumb_url: str
    thumb_width: int
    thumb_height: int

    def placeholder(self) -> str:
        return f"[video {human_duration(self.seconds)}]"


@dataclass(frozen=True, slots=True)
class RelayElem(_Elem):
    """A merged forward: nested messages inline, or only ``json_msg_key`` when they were large."""

    kind: ClassVar[str] = "TIMRelayElem"
    title: str
    msg_num: int
    compatible_text: str
    abstract: tuple[str, ...]
    messages: tuple[Message, ...]
    json_msg_key: str

    def placeholder(self) -> str:
        count = self.msg_num or len(self.messages)
        head = f"merged forward: {shorten(self.title)}" if self.title else "merged forward"
        return f"[{head} · {count} msg{'' if count == 1 else 's'}]"

    def extras(self) -> tuple[str, ...]:
        out = [self.title] if len(self.title) > SHORT else []
        if self.compatible_text:
            out.append(self.compatible_text)
        out.extend(self.abstract)
        out.extend(m.search_text() for m in self.messages)
        return tuple(out)


@dataclass(frozen=True, slots=True)
class UnknownElem(_Elem):
    """An element type roamtui does not know, kept whole (its MsgContent as JSON text)."""

    kind: str
    content_json: str

    def placeholder(self) -> str:
        return f"[{shorten(self.kind, 40)}]" if self.kind else "[unknown element]"

    def extras(self) -> tuple[str, ...]:
        return (self.content_json,)


Element = (
    TextElem | LocationElem | FaceElem | CustomElem | SoundElem | ImageElem | FileElem
    | VideoElem | RelayElem | UnknownElem
)
