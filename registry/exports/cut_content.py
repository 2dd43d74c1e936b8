"""The stored form of a frozen data cut's contents: canonical bytes that give back the same Python
values (dates, Decimals, integers, booleans, text, None) that the live datasets hold.

Canonical: compact JSON, keys sorted, UTF-8; a date is written `{"$date": "2024-06-30"}`, a
Decimal `{"$decimal": "17.675565"}` (its text as stored, trailing zeros kept: the CSV writes a
Decimal as its text) and a missing-data code standing for a value `{"$missing": "UNK"}` (read back as
Coded, so that a cut's files write it as the live ones do). The same values always give the same
bytes, so the SHA-256 of the bytes names the content: a cut stores each distinct content once
(registry/models/data_cuts.py). Blobs are zlib-compressed at the highest level; the hash is of the
uncompressed bytes.
"""
from __future__ import annotations

import hashlib
import json
import zlib
from datetime import date, datetime
from decimal import Decimal

from registry.records.missing_codes import Coded

DATE_TAG = "$date"
DECIMAL_TAG = "$decimal"
MISSING_TAG = "$missing"
COMPRESSION_LEVEL = 9


def _tagged(value):
    if isinstance(value, datetime):  # a subclass of date: refused rather than stored as a date
        raise TypeError(f"A frozen data cut stores dates, not timestamps ({value!r})")
    if isinstance(value, date):
        return {DATE_TAG: value.isoformat()}
    if isinstance(value, Decimal):
        return {DECIMAL_TAG: str(value)}
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, Coded):
        return {MISSING_TAG: value.code}
    raise TypeError(f"A frozen data cut cannot store {type(value).__name__} {value!r}")


def _untagged(mapping: dict):
    if len(mapping) == 1:
        if DATE_TAG in mapping:
            return date.fromisoformat(mapping[DATE_TAG])
        if DECIMAL_TAG in mapping:
            return Decimal(mapping[DECIMAL_TAG])
        if MISSING_TAG in mapping:
            return Coded(mapping[MISSING_TAG])
    return mapping


def canonical_bytes(content) -> bytes:
    """`content` (dicts, lists and the values above) as canonical bytes."""
    return json.dumps(
        content, default=_tagged, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False,
    ).encode()


def from_canonical_bytes(data: bytes):
    return json.loads(data, object_hook=_untagged)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def compressed(data: bytes) -> bytes:
    return zlib.compress(data, COMPRESSION_LEVEL)


def decompressed(data: bytes | memoryview) -> bytes:
    return zlib.decompress(bytes(data))
