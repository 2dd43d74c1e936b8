"""The JSON depth scan, without a database: where it stops, what it ignores, and that reading a chunk
at a time finds what reading byte by byte finds."""
import io
import random

import ijson
import pytest

from registry.records import json_depth
from registry.records.json_depth import DepthCheckedReader, JSONTooDeep, check_json_depth


def deepening_byte(data: bytes, limit: int):
    """Where `data` first nests deeper than `limit` (counted from 1), read byte by byte; None if never
    (or once a closing bracket has nothing open, where every parser stops)."""
    depth, in_string, escaped = 0, False, False
    for position, byte in enumerate(data, start=1):
        character = chr(byte)
        if in_string:
            if escaped:
                escaped = False
            elif character == "\\":
                escaped = True
            elif character == '"':
                in_string = False
        elif character == '"':
            in_string = True
        elif character in "[{":
            depth += 1
            if depth > limit:
                return position
        elif character in "]}":
            depth -= 1
            if depth < 0:
                return None
    return None


def refused_at(source, limit: int = 64):
    try:
        check_json_depth(source, limit)
    except JSONTooDeep as error:
        return error.byte
    return None


def test_ten_megabytes_of_brackets_are_refused_at_the_65th():
    with pytest.raises(JSONTooDeep) as refused:
        check_json_depth(b"[" * 10_000_000)

    assert str(refused.value) == "JSON nested deeper than 64 levels (at byte 65)"


def test_64_levels_of_objects_and_lists_pass():
    assert refused_at(b'{"a": ' * 32 + b"[" * 32 + b"]" * 32 + b"}" * 32) is None


def test_brackets_in_strings_and_escaped_quotes_do_not_count():
    data = b'["' + b'[{\\"' * 1000 + b'", ' + b"[" * 63 + b"]" * 64

    assert refused_at(data) is None
    # "[" and the string: 2 + 4000 bytes; `", [` opens level 2 at byte 4006; level 65 is 63 bytes on.
    assert refused_at(data.replace(b'", ', b'", [')) == 2 + 4000 + 4 + 63


def test_a_file_is_read_from_where_it_stands_and_left_at_its_start():
    source = io.BytesIO(b"[[[]]]")

    assert refused_at(source, limit=2) == 3
    assert source.tell() == 0


def test_chunked_scanning_agrees_with_reading_byte_by_byte(monkeypatch):
    # Strings, escapes and brackets cut by chunk boundaries of every small size.
    generator = random.Random(10)
    for _ in range(3000):
        data = bytes(generator.choice(b'[[{{"\\\\ax]]}') for _ in range(generator.randint(0, 50)))
        limit = generator.randint(1, 5)
        expected = deepening_byte(data, limit)
        for chunk_bytes in (1, 2, 3, 7, 64):
            monkeypatch.setattr(json_depth, "CHUNK_BYTES", chunk_bytes)
            assert refused_at(data, limit) == expected, (data, limit, chunk_bytes)


def test_the_streaming_reader_stops_ijson_before_it_builds_the_deep_item():
    reader = DepthCheckedReader(io.BytesIO(b"[" * 10_000_000))

    with pytest.raises(JSONTooDeep) as refused:
        list(ijson.items(reader, "item"))

    assert refused.value.byte == 65
