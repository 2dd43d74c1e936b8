"""A bound on how deeply a JSON document nests, checked over its bytes before any parser builds it.

Every JSON door (the REST API's bodies, the REDCap API's `data`, flat JSON imports from the command
line and the admin) calls `check_json_depth` first. A parser handed deep nesting either recurses
(Python's json: RecursionError, a 500) or builds one container per bracket (ijson: a list inside a
list ten million times over, gigabytes for a 10 MB body). No record of this project nests deeper
than 4 levels (a list of records, a record, a list of instances, an instance); 64 leaves room for
any honest client.

The scan reads the bytes a chunk at a time and does its work in C (regular expressions, bytes
translate, itertools.accumulate): strings are removed first, so that brackets inside them do not
count; what remains of a chunk is reduced to its brackets, whose running depth is summed. Only a
chunk that goes too deep is read again byte by byte, to say where. Invalid JSON is not this
module's concern: the parser that follows reports it; a closing bracket with nothing open stops
the scan (the parser stops there too).
"""
import re
from itertools import accumulate

MAX_JSON_DEPTH = 64
CHUNK_BYTES = 64 * 1024

# A complete string: the quotes, and between them anything but a quote or backslash, or an escape.
_COMPLETE_STRING = re.compile(rb'"[^"\\]*+(?:\\.[^"\\]*+)*+"', re.DOTALL)
# The rest of a string that began in an earlier chunk, up to and with its closing quote.
_STRING_END = re.compile(rb'[^"\\]*+(?:\\.[^"\\]*+)*+"', re.DOTALL)
_NOT_BRACKETS = bytes(byte for byte in range(256) if byte not in b"[]{}")
_DEPTH_CHANGE = [0] * 256
for _opening in b"[{":
    _DEPTH_CHANGE[_opening] = 1
for _closing in b"]}":
    _DEPTH_CHANGE[_closing] = -1


class JSONTooDeep(ValueError):
    """The document nests deeper than the limit; `byte` is where (counted from 1)."""

    def __init__(self, limit: int, byte: int):
        super().__init__(f"JSON nested deeper than {limit} levels (at byte {byte})")
        self.limit = limit
        self.byte = byte


class _Scan:
    def __init__(self, limit: int):
        self.limit = limit
        self.depth = 0
        self.in_string = False
        self.escaped = False  # in a string, the last byte read was an escaping backslash
        self.offset = 0  # bytes read before the current chunk
        self.unbalanced = False  # a closing bracket with nothing open: the parser will refuse it

    def feed(self, chunk: bytes) -> None:
        if self.unbalanced or not chunk:
            self.offset += len(chunk)
            return
        before = (self.depth, self.in_string, self.escaped)
        outside, still_in_string = self._outside_strings(chunk)
        brackets = outside.translate(None, _NOT_BRACKETS)
        if brackets:
            depths = list(accumulate(map(_DEPTH_CHANGE.__getitem__, brackets), initial=self.depth))
            if min(depths) < 0:  # what follows the first unbalanced bracket is not read by any parser
                self.unbalanced = True
                del depths[next(index for index, depth in enumerate(depths) if depth < 0):]
            if max(depths) > self.limit:
                self.depth, self.in_string, self.escaped = before
                raise JSONTooDeep(self.limit, self.offset + _deepening_position(chunk, before, self.limit) + 1)
            self.depth = depths[-1]
        if still_in_string:
            # The backslashes ending the chunk escape one another in pairs; an odd one out escapes
            # the next chunk's first byte. A chunk of backslashes only continues the last chunk's.
            self.in_string = True
            trailing = len(chunk) - len(chunk.rstrip(b"\\"))
            if trailing == len(chunk) and self.escaped:
                self.escaped = trailing % 2 == 0
            else:
                self.escaped = trailing % 2 == 1
        self.offset += len(chunk)

    def _outside_strings(self, chunk: bytes) -> tuple[bytes, bool]:
        """The chunk's bytes that are outside strings, and whether the chunk ends inside a string."""
        start = 0
        if self.in_string:
            start = 1 if self.escaped else 0
            end = _STRING_END.match(chunk, start)
            if end is None:
                return b"", True
            start = end.end()
            self.in_string = self.escaped = False
        rest = _COMPLETE_STRING.sub(b"", chunk[start:])
        # Complete strings are gone; a quote left opens a string the chunk does not close.
        unclosed = rest.find(b'"')
        if unclosed == -1:
            return rest, False
        return rest[:unclosed], True


def _deepening_position(chunk: bytes, state: tuple[int, bool, bool], limit: int) -> int:
    """Where in `chunk` the depth first passes `limit`, read byte by byte from `state`."""
    depth, in_string, escaped = state
    for position, byte in enumerate(chunk):
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        else:
            depth += _DEPTH_CHANGE[byte]
            if depth > limit:
                return position
    raise AssertionError("the chunk was found too deep but no byte of it is")  # pragma: no cover


def check_json_depth(source, limit: int = MAX_JSON_DEPTH) -> None:
    """Raises JSONTooDeep when `source` (bytes, or a binary file read from where it stands and left
    at its start) nests deeper than `limit`."""
    scan = _Scan(limit)
    if isinstance(source, (bytes, bytearray, memoryview)):
        view = memoryview(source)
        for start in range(0, len(view), CHUNK_BYTES):
            scan.feed(bytes(view[start:start + CHUNK_BYTES]))
        return
    try:
        while chunk := source.read(CHUNK_BYTES):
            scan.feed(chunk)
    finally:
        source.seek(0)


class DepthCheckedReader:
    """A binary file for a streaming parser (ijson) that checks each chunk as the parser reads it:
    the parser never sees a byte past the one that nests too deep (JSONTooDeep is raised from its
    read), and the file is read once."""

    def __init__(self, raw, limit: int = MAX_JSON_DEPTH):
        self.raw = raw
        self.scan = _Scan(limit)

    def read(self, size: int = -1) -> bytes:
        chunk = self.raw.read(size)
        self.scan.feed(chunk)
        return chunk
