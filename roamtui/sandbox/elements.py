"""MsgBody builders: one realistic element list per message kind (reference/tim-api.md §2).

A message's kind is stored as one byte in the dataset; its content is rebuilt on demand from a
per-message random generator, so the same message always comes back byte for byte the same.
"""

from __future__ import annotations

import enum
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from roamtui.sandbox import texts

JsonObj = dict[str, Any]


class Kind(enum.IntEnum):
    TEXT = 0
    TEXT_FACE = 1  # Text + Face + Text in one message
    FACE = 2
    IMAGE = 3
    FILE = 4
    SOUND = 5
    VIDEO = 6
    LOCATION = 7
    CUSTOM = 8
    RELAY = 9  # merged forward with the nested messages inline
    RELAY_KEY = 10  # merged forward too big to inline: only JsonMsgKey
    HOSTILE = 11
    LONG = 12  # one 5,000-character line
    UNKNOWN = 13  # an element type newer than the app
    TEXT_IMAGE = 14  # Text + Image
    BURST = 15  # a short pasted line, used for same-second bursts


# Out of 256: mostly text, every other type present, hostile content rare but always there.
_WEIGHTS: dict[Kind, int] = {
    Kind.TEXT: 170,
    Kind.TEXT_FACE: 6,
    Kind.FACE: 6,
    Kind.IMAGE: 18,
    Kind.FILE: 8,
    Kind.SOUND: 10,
    Kind.VIDEO: 6,
    Kind.LOCATION: 4,
    Kind.CUSTOM: 10,
    Kind.RELAY: 5,
    Kind.RELAY_KEY: 2,
    Kind.HOSTILE: 4,
    Kind.LONG: 1,
    Kind.UNKNOWN: 1,
    Kind.TEXT_IMAGE: 5,
}
#: bytes.translate table turning uniform random bytes into kinds with the weights above.
KIND_TABLE: bytes = b"".join(bytes([k]) * w for k, w in _WEIGHTS.items())
assert len(KIND_TABLE) == 256

_FACES = ("[TUIEmoji_Smile]", "[TUIEmoji_Cry]", "[TUIEmoji_Like]", "[微笑]", "[Thumbs up]")
_VOICE_SECONDS = (2, 3, 5, 7, 12, 18, 34, 59)
_PHOTO_SIZES = ((2448, 3264), (3024, 4032), (1080, 2340), (1280, 720), (640, 640))
_IMAGE_FORMATS = ((1, "jpg"), (1, "jpg"), (3, "png"), (2, "gif"), (255, "heic"))


@dataclass(frozen=True, slots=True)
class Party:
    """Who sends what, and in which language, for one message being built."""

    sender: str
    receiver: str
    agent: str
    sender_is_agent: bool
    zh_ratio: float
    time: int


def _uuid(rng: random.Random) -> str:
    return f"{rng.getrandbits(128):032x}"


def _url(uuid: str, ext: str) -> str:
    return f"https://cos.ap-shanghai.myqcloud.com/im-sandbox/{uuid[:2]}/{uuid}.{ext}"


_PLACEHOLDERS: dict[str, Callable[[random.Random, str], str]] = {
    "order": lambda rng, _agent: f"E{rng.randrange(10**9, 10**10)}",
    "coupon": lambda rng, _agent: f"SAVE{rng.randrange(10, 99)}-{rng.randrange(1000, 9999)}",
    "agent": lambda _rng, agent: texts.AGENT_DISPLAY.get(agent, agent),
    "amount": lambda rng, _agent: rng.choice(("5.00", "10.00", "20.00", "88.00")),
    "ticket": lambda rng, _agent: f"T-{rng.randrange(100000, 999999)}",
}


def _fill(template: str, rng: random.Random, agent: str) -> str:
    """Fill the template's {order}, {coupon}… with random values; draws only what it uses."""
    if "{" not in template:
        return template
    values = {
        name: make(rng, agent)
        for name, make in _PLACEHOLDERS.items()
        if "{" + name + "}" in template
    }
    return template.format(**values)


def chat_line(rng: random.Random, party: Party) -> str:
    """One line of support chat in the party's language mix."""
    zh = rng.random() < party.zh_ratio
    bank: tuple[str, ...]
    if party.sender_is_agent:
        bank = texts.AGENT_ZH if zh else texts.AGENT_EN
    else:
        bank = texts.CUSTOMER_ZH if zh else texts.CUSTOMER_EN
    line = _fill(rng.choice(bank), rng, party.agent)
    if rng.random() < 0.15:
        line += ("" if zh else " ") + _fill(rng.choice(bank), rng, party.agent)
    return line


def text_elem(text: str) -> JsonObj:
    return {"MsgType": "TIMTextElem", "MsgContent": {"Text": text}}


def face_elem(rng: random.Random) -> JsonObj:
    index = rng.randrange(len(_FACES))
    return {"MsgType": "TIMFaceElem", "MsgContent": {"Index": index, "Data": _FACES[index]}}


def image_elem(rng: random.Random) -> JsonObj:
    uuid = _uuid(rng)
    fmt, ext = rng.choice(_IMAGE_FORMATS)
    width, height = rng.choice(_PHOTO_SIZES)
    size = width * height // rng.randrange(3, 9)
    scale = min(1.0, 720 / max(width, height))
    infos = [
        {"Type": 1, "Size": size, "Width": width, "Height": height, "URL": _url(uuid, ext)},
        {
            "Type": 2,
            "Size": int(size * scale * scale),
            "Width": int(width * scale),
            "Height": int(height * scale),
            "URL": _url(uuid, ext) + "?imageView2/3/w/720",
        },
        # Derived sizes may report 0×0 (tim-api.md §2).
        {
            "Type": 3,
            "Size": 0,
            "Width": 0,
            "Height": 0,
            "URL": _url(uuid, ext) + "?imageView2/3/w/198",
        },
    ]
    content = {"UUID": uuid, "ImageFormat": fmt, "ImageInfoArray": infos}
    return {"MsgType": "TIMImageElem", "MsgContent": content}


def file_elem(rng: random.Random, agent: str) -> JsonObj:
    uuid = _uuid(rng)
    name_tpl, size = rng.choice(texts.FILE_NAMES)
    name = _fill(name_tpl, rng, agent)
    content: JsonObj = {"UUID": uuid, "FileSize": size, "FileName": name}
    if rng.random() < 0.9:  # SDK <= 3.x sent no Url / Download_Flag
        content = {"Url": _url(uuid, name.rsplit(".", 1)[-1]), **content, "Download_Flag": 2}
    return {"MsgType": "TIMFileElem", "MsgContent": content}


def sound_elem(rng: random.Random) -> JsonObj:
    uuid = _uuid(rng)
    seconds = rng.choice(_VOICE_SECONDS)
    content: JsonObj = {
        "UUID": uuid,
        "Size": seconds * 2100 + rng.randrange(500),
        "Second": seconds,
    }
    if rng.random() < 0.9:
        content = {"Url": _url(uuid, "m4a"), **content, "Download_Flag": 2}
    return {"MsgType": "TIMSoundElem", "MsgContent": content}


def video_elem(rng: random.Random) -> JsonObj:
    video, thumb = _uuid(rng), _uuid(rng)
    seconds = rng.randrange(3, 95)
    content = {
        "VideoUrl": _url(video, "mp4"),
        "VideoUUID": video,
        "VideoSize": seconds * 310_000,
        "VideoSecond": seconds,
        "VideoFormat": "mp4",
        "VideoDownloadFlag": 2,
        "ThumbUrl": _url(thumb, "jpg"),
        "ThumbUUID": thumb,
        "ThumbSize": rng.randrange(20_000, 90_000),
        "ThumbWidth": 720,
        "ThumbHeight": 1280,
        "ThumbFormat": "JPG",
        "ThumbDownloadFlag": 2,
    }
    return {"MsgType": "TIMVideoFileElem", "MsgContent": content}


def location_elem(rng: random.Random) -> JsonObj:
    desc, lat, lon = rng.choice(texts.LOCATIONS)
    return {
        "MsgType": "TIMLocationElem",
        "MsgContent": {"Desc": desc, "Latitude": lat, "Longitude": lon},
    }


def custom_elem(rng: random.Random, agent: str) -> JsonObj:
    desc, data = rng.choice(texts.CUSTOM_CARDS)
    content = {"Data": _fill(data, rng, agent), "Desc": desc, "Ext": "", "Sound": ""}
    return {"MsgType": "TIMCustomElem", "MsgContent": content}


def _nested_messages(rng: random.Random, party: Party, depth: int) -> list[JsonObj]:
    people = (party.sender, party.receiver, *texts.OTHER_ACCOUNTS)
    first, second = rng.sample(people, 2)
    count = rng.randrange(2, 9)
    when = party.time - rng.randrange(3600, 30 * 86400)
    out: list[JsonObj] = []
    for _ in range(count):
        when += rng.randrange(1, 600)
        roll = rng.random()
        if depth == 0 and roll < 0.1:
            body = [relay_elem(rng, party, depth + 1)]
        elif roll < 0.25:
            body = [image_elem(rng)]
        else:
            body = [text_elem(chat_line(rng, party))]
        out.append(
            {
                "From_Account": first,
                "To_Account": second,
                "MsgSeq": rng.randrange(1, 2**32),
                "MsgRandom": rng.randrange(2**32),
                "MsgTimeStamp": when,
                "MsgBody": body,
                "CloudCustomData": "",
            }
        )
        first, second = second, first
    return out


def _abstract(msg: JsonObj) -> str:
    elem = msg["MsgBody"][0]
    if elem["MsgType"] == "TIMTextElem":
        preview = str(elem["MsgContent"]["Text"])[:30]
    elif elem["MsgType"] == "TIMImageElem":
        preview = "[Image]"
    else:
        preview = "[Chat History]"
    return f"{msg['From_Account']}: {preview}"


def relay_elem(rng: random.Random, party: Party, depth: int = 0, inline: bool = True) -> JsonObj:
    """A merged forward; inline ones carry MsgList, big ones only a JsonMsgKey."""
    title = rng.choice(texts.RELAY_TITLES).format(a=party.sender, b=party.receiver)
    if inline:
        nested = _nested_messages(rng, party, depth)
        content: JsonObj = {
            "Title": title,
            "MsgNum": len(nested),
            "CompatibleText": "[Chat History]",
            "AbstractList": [_abstract(m) for m in nested[:4]],
            "MsgList": nested,
        }
    else:
        content = {
            "Title": title,
            "MsgNum": rng.randrange(40, 400),
            "CompatibleText": "[聊天记录]",
            "AbstractList": [f"{party.sender}: {chat_line(rng, party)[:30]}" for _ in range(3)],
            "JsonMsgKey": f"{rng.getrandbits(64):016x}_{party.time}",
        }
    return {"MsgType": "TIMRelayElem", "MsgContent": content}


def build_body(kind: int, rng: random.Random, party: Party) -> list[JsonObj]:
    """The MsgBody element list of one message of `kind`."""
    k = Kind(kind)
    if k is Kind.TEXT:
        return [text_elem(chat_line(rng, party))]
    if k is Kind.TEXT_FACE:
        return [text_elem(chat_line(rng, party)), face_elem(rng), text_elem("!")]
    if k is Kind.TEXT_IMAGE:
        return [text_elem(chat_line(rng, party)), image_elem(rng)]
    if k is Kind.BURST:
        return [text_elem(rng.choice(texts.BURST_LINES))]
    if k is Kind.HOSTILE:
        return [text_elem(rng.choice(texts.HOSTILE))]
    if k is Kind.LONG:
        unit = rng.choice(("all work and no play ", "長", "x", "🙂 [b]"))
        return [text_elem(texts.long_line(unit))]
    if k is Kind.UNKNOWN:
        content = {"Chunks": ["partial ", "answer"], "IsFinished": 1}
        return [{"MsgType": rng.choice(texts.UNKNOWN_TYPES), "MsgContent": content}]
    return [_SINGLE[k](rng, party)]


_SINGLE: dict[Kind, Callable[[random.Random, Party], JsonObj]] = {
    Kind.FACE: lambda rng, _party: face_elem(rng),
    Kind.IMAGE: lambda rng, _party: image_elem(rng),
    Kind.FILE: lambda rng, party: file_elem(rng, party.agent),
    Kind.SOUND: lambda rng, _party: sound_elem(rng),
    Kind.VIDEO: lambda rng, _party: video_elem(rng),
    Kind.LOCATION: lambda rng, _party: location_elem(rng),
    Kind.CUSTOM: lambda rng, party: custom_elem(rng, party.agent),
    Kind.RELAY: lambda rng, party: relay_elem(rng, party),
    Kind.RELAY_KEY: lambda rng, party: relay_elem(rng, party, inline=False),
}


def cloud_custom_data(rng: random.Random, agent: str) -> str:
    return _fill(rng.choice(texts.CLOUD_CUSTOM_DATA), rng, agent)
