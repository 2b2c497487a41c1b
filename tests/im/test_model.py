"""im.model: every element type of tim-api.md §2, placeholders, search text, lenient parsing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from roamtui.im.errors import ProtocolError
from roamtui.im.model import (
    MAX_PROBLEMS,
    CustomElem,
    FaceElem,
    FileElem,
    ImageElem,
    ImageInfo,
    LocationElem,
    Message,
    RelayElem,
    SoundElem,
    TextElem,
    UnknownElem,
    VideoElem,
    human_duration,
    human_size,
    message_obj,
    parse_message,
)

SEED_MESSAGE: dict[str, Any] = {
    "From_Account": "user1", "To_Account": "user2", "MsgSeq": 549396494, "MsgRandom": 2578554,
    "MsgTimeStamp": 1584669680, "MsgFlagBits": 0, "IsPeerRead": 0,
    "MsgKey": "549396494_2578554_1584669680",
    "MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"Text": "msg 1"}}],
    "CloudCustomData": "your cloud custom data",
}


def elem(kind: str, **content: Any) -> dict[str, Any]:
    return {"MsgType": kind, "MsgContent": content}


def with_body(*body: Any, **fields: Any) -> dict[str, Any]:
    obj = message_obj(sender="alice", receiver="bob", time=1_584_669_680, body=list(body))
    obj.update(fields)
    return obj


def only(obj: dict[str, Any]) -> Any:
    m = parse_message(obj)
    assert m.problems == ()
    (element,) = m.elements
    return element


IMAGE = elem("TIMImageElem", UUID="img-1", ImageFormat=1, ImageInfoArray=[
    {"Type": 3, "Size": 9_000, "Width": 198, "Height": 264, "URL": "https://cos/thumb"},
    {"Type": 1, "Size": 1_887_437, "Width": 2448, "Height": 3264, "URL": "https://cos/orig"},
    {"Type": 2, "Size": 240_000, "Width": 720, "Height": 960, "URL": "https://cos/large"},
])
FILE = elem("TIMFileElem", Url="https://cos/f", UUID="f-1", FileSize=122_880,
            FileName="invoice.pdf", Download_Flag=2)
SOUND = elem("TIMSoundElem", Url="https://cos/s", UUID="s-1", Size=11_000, Second=7,
             Download_Flag=2)
VIDEO = elem("TIMVideoFileElem", VideoUrl="https://cos/v", VideoUUID="v-1", VideoSize=3_000_000,
             VideoSecond=12, VideoFormat="mp4", VideoDownloadFlag=2, ThumbUrl="https://cos/t",
             ThumbUUID="t-1", ThumbSize=20_000, ThumbWidth=320, ThumbHeight=240, ThumbFormat="JPG",
             ThumbDownloadFlag=2)
LOCATION = elem("TIMLocationElem", Desc="Shenzhen office", Latitude=22.54, Longitude=113.93)
FACE = elem("TIMFaceElem", Index=3, Data="smile")
CUSTOM = elem("TIMCustomElem", Data='{"businessID":"order","id":42}', Desc="order card",
              Ext="ext-x", Sound="dingdong.aiff")


def test_the_seed_sample_reads_every_field() -> None:
    m = parse_message(SEED_MESSAGE)
    assert (m.key, m.seq, m.random, m.time) == (
        "549396494_2578554_1584669680", 549396494, 2578554, 1584669680)
    assert (m.sender, m.receiver, m.flag_bits, m.is_peer_read) == ("user1", "user2", 0, False)
    assert m.cloud_custom_data == "your cloud custom data"
    assert m.elements == (TextElem("msg 1"),)
    assert m.text() == "msg 1" and not m.recalled and m.problems == ()


@pytest.mark.parametrize(("raw", "expected", "placeholder"), [
    (elem("TIMTextElem", Text="hi there"), TextElem("hi there"), "hi there"),
    (LOCATION, LocationElem("Shenzhen office", 22.54, 113.93),
     '[location "Shenzhen office" 22.54,113.93]'),
    (FACE, FaceElem(3, "smile"), "[face #3]"),
    (CUSTOM, CustomElem('{"businessID":"order","id":42}', "order card", "ext-x", "dingdong.aiff"),
     '[custom "order card"]'),
    (SOUND, SoundElem("https://cos/s", "s-1", 11_000, 7), "[voice 0:07]"),
    (IMAGE, ImageElem("img-1", 1, (
        ImageInfo(3, 9_000, 198, 264, "https://cos/thumb"),
        ImageInfo(1, 1_887_437, 2448, 3264, "https://cos/orig"),
        ImageInfo(2, 240_000, 720, 960, "https://cos/large"))), "[image 2448×3264 1.8 MB]"),
    (FILE, FileElem("https://cos/f", "f-1", 122_880, "invoice.pdf"), "[file invoice.pdf 120 KB]"),
    (VIDEO, VideoElem("https://cos/v", "v-1", 3_000_000, 12, "mp4", "https://cos/t", 320, 240),
     "[video 0:12]"),
])
def test_every_element_type_is_typed_and_has_its_placeholder(
    raw: dict[str, Any], expected: object, placeholder: str
) -> None:
    element = only(with_body(raw))
    assert element == expected
    assert element.kind == raw["MsgType"]
    assert element.placeholder() == placeholder


def test_image_without_an_original_uses_the_largest_variant() -> None:
    content = dict(IMAGE["MsgContent"])
    content["ImageInfoArray"] = [i for i in content["ImageInfoArray"] if i["Type"] != 1]
    largest = only(with_body(elem("TIMImageElem", **content)))
    assert largest.placeholder() == "[image 720×960 234 KB]"
    assert only(with_body(elem("TIMImageElem", UUID="x"))).placeholder() == "[image]"


def test_old_sdk_media_without_urls_still_render() -> None:
    sound = only(with_body(elem("TIMSoundElem", UUID="s", Size=10, Second=65)))
    assert sound.url == "" and sound.placeholder() == "[voice 1:05]"
    file = only(with_body(elem("TIMFileElem", UUID="f", FileSize=0, FileName="a.txt")))
    assert file.placeholder() == "[file a.txt]"


def test_custom_without_desc_shows_a_short_excerpt_of_its_data() -> None:
    data = json.dumps({"businessID": "order_card", "orderId": "A-1001", "items": list(range(30))})
    custom = only(with_body(elem("TIMCustomElem", Data=data)))
    ph = custom.placeholder()
    assert ph.startswith('[custom "{"businessID": "order_card"') and ph.endswith('…"]')
    assert len(ph) < 60
    assert data in custom.search_text()
    assert only(with_body(elem("TIMCustomElem"))).placeholder() == "[custom]"


def test_unknown_element_types_are_kept_whole_and_shown_by_name() -> None:
    content = {"Stream": [1, 2, {"deep": "值"}], "Flag": True}
    m = parse_message(with_body(elem("TIMNewElem", **content)))
    (unknown,) = m.elements
    assert isinstance(unknown, UnknownElem) and unknown.kind == "TIMNewElem"
    assert json.loads(unknown.content_json) == content
    assert unknown.placeholder() == "[TIMNewElem]" and m.text() == "[TIMNewElem]"
    assert '"deep":"值"' in m.search_text()
    assert m.problems == ()  # an unknown type is not a malformed message


def test_merged_forward_parses_nested_messages_recursively() -> None:
    inner_forward = elem("TIMRelayElem", Title="older chat", MsgNum=1, AbstractList=["x: deep"],
                         MsgList=[{"From_Account": "x", "To_Account": "y", "MsgSeq": 1,
                                   "MsgRandom": 1, "MsgTimeStamp": 5,
                                   "MsgBody": [elem("TIMTextElem", Text="deepest words")]}])
    relay = elem("TIMRelayElem", Title="Chat history of carol and dave", MsgNum=2,
                 CompatibleText="[Chat History]", AbstractList=["carol: hello", "dave: [File]"],
                 MsgList=[
                     {"From_Account": "carol", "To_Account": "dave", "MsgSeq": 4294967295,
                      "MsgRandom": 7, "MsgTimeStamp": 1_584_600_000, "CloudCustomData": "",
                      "MsgBody": [elem("TIMTextElem", Text="hello"), inner_forward]},
                     {"From_Account": "dave", "GroupId": "@TGS#1", "MsgSeq": 2, "MsgRandom": 8,
                      "MsgTimeStamp": 1_584_600_001, "MsgBody": [FILE]},
                 ])
    m = parse_message(with_body(relay))
    assert m.problems == ()
    (forward,) = m.elements
    assert isinstance(forward, RelayElem)
    assert forward.placeholder() == "[merged forward: Chat history of carol and dave · 2 msgs]"
    assert forward.abstract == ("carol: hello", "dave: [File]")
    first, second = forward.messages
    assert (first.sender, first.seq, first.key) == ("carol", 4294967295, "")
    assert first.text() == "hello [merged forward: older chat · 1 msg]"
    assert (second.receiver, second.text()) == ("@TGS#1", "[file invoice.pdf 120 KB]")
    assert json.loads(second.raw_json) == relay["MsgContent"]["MsgList"][1]
    found = m.search_text()
    for needle in ("Chat history of carol", "carol: hello", "invoice.pdf", "deepest words",
                   "x: deep"):
        assert needle in found


def test_merged_forward_with_only_a_json_key_counts_its_messages() -> None:
    relay = only(with_body(elem("TIMRelayElem", Title="big", MsgNum=120, JsonMsgKey="k-9",
                                AbstractList=["a: 1"])))
    assert relay.messages == () and relay.json_msg_key == "k-9"
    assert relay.placeholder() == "[merged forward: big · 120 msgs]"


def test_text_joins_elements_in_order_for_copying() -> None:
    m = parse_message(with_body(elem("TIMTextElem", Text="look "), FACE,
                                elem("TIMTextElem", Text=" nice"), IMAGE,
                                elem("TIMTextElem", Text="!")))
    assert m.text() == "look [face #3] nice [image 2448×3264 1.8 MB] !"


def test_search_text_covers_names_descriptions_and_custom_data() -> None:
    long_name = "quarterly-report-" + "x" * 100 + ".xlsx"
    m = parse_message(with_body(LOCATION, CUSTOM, elem("TIMFileElem", FileName=long_name,
                                                       FileSize=5), elem("TIMTextElem", Text="ok")))
    text = m.search_text()
    for needle in ("Shenzhen office", "order card", '"businessID":"order"', "ext-x", long_name):
        assert needle in text
    assert long_name not in m.text()  # the placeholder keeps one line short
    assert text.count("order card") == 1  # shown text is not indexed twice


@pytest.mark.parametrize(("flag_bits", "body", "recalled"), [
    (8, [elem("TIMTextElem", Text="something awful")], True),
    (8, None, True),
    (8, [], True),
    (8 | 1, [elem("TIMTextElem", Text="x")], True),
    (0, [elem("TIMTextElem", Text="x")], False),
])
def test_recalled_messages_with_or_without_body(
    flag_bits: int, body: list[Any] | None, recalled: bool
) -> None:
    obj = with_body(MsgFlagBits=flag_bits)
    if body is None:
        del obj["MsgBody"]
    else:
        obj["MsgBody"] = body
    m = parse_message(obj)
    assert m.recalled is recalled and m.problems == ()
    assert m.text() == ("" if not body else body[0]["MsgContent"]["Text"])


def test_huge_sequence_numbers_are_kept_exactly() -> None:
    big = 2**70 + 3
    m = parse_message(with_body(MsgSeq=4294967295, MsgRandom=big, MsgKey="k"))
    assert (m.seq, m.random, m.problems) == (4294967295, big, ())
    assert json.loads(m.raw_json)["MsgRandom"] == big


def test_raw_json_is_the_record_exactly_compact_and_unescaped() -> None:
    obj = with_body(elem("TIMTextElem", Text="你好 \u202e\x1b[31m\ud800"), FACE,
                    MsgClientTime=1584669679, FutureField={"nested": [1, None, 2.5]})
    m = parse_message(obj)
    assert json.loads(m.raw_json) == obj and m.raw() == obj
    assert m.raw_json == json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    assert "你好" in m.raw_json and ": " not in m.raw_json


def test_missing_key_is_made_from_seq_random_time_and_reported() -> None:
    obj = with_body(MsgSeq=5, MsgRandom=6, MsgTimeStamp=7)
    del obj["MsgKey"]
    m = parse_message(obj)
    assert m.key == "5_6_7"
    assert any(p.startswith("MsgKey: missing") for p in m.problems)


@pytest.mark.parametrize(("obj", "problem"), [
    ({}, "MsgSeq: missing"),
    (with_body(MsgSeq="12"), "MsgSeq: expected an integer, got a string (read as 12)"),
    (with_body(MsgTimeStamp=[1]), "MsgTimeStamp: expected an integer, got an array"),
    (with_body(From_Account=5), "From_Account: expected a string, got a number"),
    (with_body(IsPeerRead={"x": 1}), "IsPeerRead: expected an integer, got an object"),
    (with_body(MsgBody="hello"), "MsgBody: expected an array, got a string"),
    (with_body(MsgBody=42), "MsgBody: expected an array, got a number"),
    (with_body(MsgBody=elem("TIMTextElem", Text="solo")), "MsgBody: an object, expected an array"),
    (with_body("text"), "MsgBody[0]: expected an object, got a string"),
    (with_body({"MsgContent": {"Text": "x"}}), "MsgBody[0].MsgType: missing"),
    (with_body({"MsgType": "TIMTextElem"}), "MsgBody[0].MsgContent: missing"),
    (with_body(elem("TIMTextElem")), "MsgBody[0].MsgContent.Text: missing"),
    (with_body(elem("TIMFileElem", FileSize="big")), "MsgBody[0].MsgContent.FileSize: expected"),
    (with_body(elem("TIMImageElem", ImageInfoArray=[None])),
     "MsgBody[0].MsgContent.ImageInfoArray[0]: expected an object, got null"),
    (with_body(elem("TIMLocationElem", Latitude="north")),
     "MsgBody[0].MsgContent.Latitude: expected a number, got a string"),
    (with_body(elem("TIMRelayElem", MsgList=[{"MsgSeq": "x"}])),
     "MsgBody[0].MsgContent.MsgList[0].MsgSeq: expected an integer, got a string"),
    (with_body(elem("TIMRelayElem", MsgList="nope")),
     "MsgBody[0].MsgContent.MsgList: expected an array, got a string"),
])
def test_malformed_records_are_read_as_far_as_possible(obj: dict[str, Any], problem: str) -> None:
    m = parse_message(obj)
    assert any(p.startswith(problem) for p in m.problems), m.problems
    assert isinstance(m.text() + m.search_text(), str)
    assert json.loads(m.raw_json) == obj


def test_a_single_object_body_is_still_shown() -> None:
    m = parse_message(with_body(MsgBody=elem("TIMTextElem", Text="solo")))
    assert m.text() == "solo"


def test_mistyped_fields_keep_what_can_be_read() -> None:
    m = parse_message(with_body(elem("TIMSoundElem", Second="7", Size=1.0), MsgSeq=12.0,
                                MsgRandom=True, IsPeerRead=1))
    assert (m.seq, m.random, m.is_peer_read) == (12, 1, True)
    assert m.text() == "[voice 0:07]"


def test_garbage_everywhere_yields_a_bounded_problem_list() -> None:
    m = parse_message(with_body(*([None] * 50)))
    assert len(m.problems) == MAX_PROBLEMS + 1
    assert m.problems[-1] == f"… and {50 - MAX_PROBLEMS} more problems"
    assert m.text() == " ".join(["[unknown element]"] * 50)


def test_integers_beyond_the_digit_limit_do_not_crash() -> None:
    m = parse_message(with_body(MsgSeq=10**5000, MsgKey=None))
    assert m.seq == 10**5000
    assert any("not plain JSON" in p for p in m.problems)
    json.loads(m.raw_json)


def test_deeply_nested_forwards_stop_at_a_depth_limit() -> None:
    record: dict[str, Any] = {"From_Account": "a", "MsgSeq": 1, "MsgRandom": 1, "MsgTimeStamp": 1,
                              "MsgBody": [elem("TIMTextElem", Text="core")]}
    for _ in range(30):
        record = {"From_Account": "a", "MsgSeq": 1, "MsgRandom": 1, "MsgTimeStamp": 1,
                  "MsgBody": [elem("TIMRelayElem", Title="t", MsgNum=1, MsgList=[record])]}
    m = parse_message(with_body(*record["MsgBody"]))
    assert any("nested more than" in p for p in m.problems)
    assert m.text() == "[merged forward: t · 1 msg]"
    assert json.loads(m.raw_json)["MsgBody"] == record["MsgBody"]


@pytest.mark.parametrize("obj", [None, [], [SEED_MESSAGE], "x", 5, 1.5, True])
def test_a_record_that_is_not_an_object_is_a_protocol_error(obj: object) -> None:
    with pytest.raises(ProtocolError):
        parse_message(obj)


def test_from_fields_builds_a_service_shaped_message() -> None:
    m = Message.from_fields(sender="a", receiver="b", time=10, text="hey", seq=3, random=4,
                            is_peer_read=True, cloud_custom_data="ccd")
    assert (m.key, m.text(), m.is_peer_read, m.cloud_custom_data) == ("3_4_10", "hey", True, "ccd")
    assert Message.from_fields(sender="a", receiver="b", time=10, text="hey", seq=3, random=4,
                               is_peer_read=True, cloud_custom_data="ccd") == m


@pytest.mark.parametrize(("size", "text"), [
    (0, "0 B"), (512, "512 B"), (1023, "1023 B"), (1024, "1 KB"), (122_880, "120 KB"),
    (1_048_063, "1023 KB"), (1_048_575, "1.0 MB"), (1_887_437, "1.8 MB"),
    (2 * 1024**3, "2.0 GB"), (10**400, f"{10**400 >> 30} GB"),
])
def test_human_sizes(size: int, text: str) -> None:
    assert human_size(size) == text


@pytest.mark.parametrize(("seconds", "text"), [
    (0, "0:00"), (7, "0:07"), (65, "1:05"), (3723, "1:02:03"), (-5, "0:00"),
])
def test_human_durations(seconds: int, text: str) -> None:
    assert human_duration(seconds) == text


# -- fuzzing -------------------------------------------------------------------------------

_KEYS = ["From_Account", "To_Account", "MsgSeq", "MsgRandom", "MsgTimeStamp", "MsgFlagBits",
         "IsPeerRead", "MsgKey", "MsgBody", "CloudCustomData", "MsgType", "MsgContent", "Text",
         "Desc", "Latitude", "Index", "Data", "Size", "Second", "ImageInfoArray", "Width",
         "FileName", "FileSize", "VideoSecond", "Title", "MsgNum", "AbstractList", "MsgList",
         "JsonMsgKey", "Type"]
_TYPES = ["TIMTextElem", "TIMLocationElem", "TIMFaceElem", "TIMCustomElem", "TIMSoundElem",
          "TIMImageElem", "TIMFileElem", "TIMVideoFileElem", "TIMRelayElem", "TIMNewElem"]
_scalars = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
            | st.text(max_size=12) | st.sampled_from(_TYPES))
json_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.sampled_from(_KEYS) | st.text(max_size=5), inner, max_size=5),
    max_leaves=25,
)
elements = st.fixed_dictionaries(
    {"MsgType": st.sampled_from(_TYPES)},
    optional={"MsgContent": st.dictionaries(st.sampled_from(_KEYS), json_values, max_size=6)},
)
messages = st.fixed_dictionaries({}, optional={
    "From_Account": json_values, "To_Account": json_values, "MsgSeq": json_values,
    "MsgRandom": json_values, "MsgTimeStamp": json_values, "MsgFlagBits": json_values,
    "IsPeerRead": json_values, "MsgKey": json_values, "CloudCustomData": json_values,
    "MsgBody": st.lists(elements | json_values, max_size=4) | json_values,
})


def _exercise(obj: dict[str, Any]) -> None:
    m = parse_message(obj)
    assert json.loads(m.raw_json) == obj
    assert isinstance(m.text(), str) and isinstance(m.search_text(), str)
    for e in m.elements:
        assert isinstance(e.placeholder(), str) and isinstance(e.search_text(), str)
    assert all(isinstance(p, str) for p in m.problems)
    assert len(m.problems) <= MAX_PROBLEMS + 1


@settings(max_examples=300, deadline=None)
@given(messages)
def test_fuzz_message_shaped_records_never_crash(obj: dict[str, Any]) -> None:
    _exercise(obj)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(_KEYS) | st.text(max_size=8), json_values, max_size=8))
def test_fuzz_arbitrary_objects_never_crash(obj: dict[str, Any]) -> None:
    _exercise(obj)


@settings(max_examples=100, deadline=None)
@given(json_values)
def test_fuzz_non_objects_are_protocol_errors(value: object) -> None:
    if isinstance(value, dict):
        _exercise(value)
    else:
        with pytest.raises(ProtocolError):
            parse_message(value)
