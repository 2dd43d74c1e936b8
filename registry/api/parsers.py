"""Request bodies, with a size limit answered 413 before the body is read.

- `LimitedJSONParser`: every endpoint that takes one object; the limit is Django's
  DATA_UPLOAD_MAX_MEMORY_SIZE, which DRF's own parser does not apply (it reads the stream itself).
- `SpooledBodyParser` and its subclasses: the bulk upserts. The body is copied, never parsed, into a
  temporary file (held in memory up to FILE_UPLOAD_MAX_MEMORY_SIZE, then on disk), which the import
  reads as a stream; the limit is REGISTRY_API_BULK_MAX_BYTES.

Every JSON body is also scanned for its nesting depth before anything parses it
(registry/records/json_depth.py): deeper than MAX_JSON_DEPTH is a 400 that says at which byte.
"""
import json
import tempfile

from django.conf import settings
from rest_framework import exceptions
from rest_framework.parsers import BaseParser

from registry.records.json_depth import JSONTooDeep, check_json_depth

from .errors import PayloadTooLarge

COPY_CHUNK_BYTES = 1024 * 1024


def declared_length(request) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


class LimitedJSONParser(BaseParser):
    """JSON, strict (no NaN or Infinity), at most DATA_UPLOAD_MAX_MEMORY_SIZE bytes: larger is a 413
    JSON answer. Not a subclass of DRF's JSONParser, which DRF feeds `request.body`, whose own size
    check would answer Django's HTML 400 first."""

    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and declared_length(parser_context["request"]) > limit:
            raise PayloadTooLarge(limit)
        body = stream.read() if stream is not None else b""
        if limit is not None and len(body) > limit:
            raise PayloadTooLarge(limit)
        _refuse_deep_nesting(body)
        try:
            return json.loads(body.decode("utf-8"), parse_constant=_refuse_constant)
        except (ValueError, UnicodeDecodeError):
            raise exceptions.ParseError("The request body is not valid JSON (UTF-8, without NaN or Infinity).") \
                from None


def _refuse_deep_nesting(body) -> None:
    """400 for a body nested deeper than MAX_JSON_DEPTH (a bytes body, or a file left at its start)."""
    try:
        check_json_depth(body)
    except JSONTooDeep as error:
        raise exceptions.ParseError(f"{error}.") from None


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not JSON")


class SpooledBodyParser(BaseParser):
    """The body as a seekable binary file (a SpooledTemporaryFile), at its start."""

    media_type = "application/octet-stream"

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.REGISTRY_API_BULK_MAX_BYTES
        if declared_length(parser_context["request"]) > limit:
            raise PayloadTooLarge(limit)
        spooled = tempfile.SpooledTemporaryFile(max_size=settings.FILE_UPLOAD_MAX_MEMORY_SIZE)
        copied = 0
        while stream is not None:
            chunk = stream.read(COPY_CHUNK_BYTES)
            if not chunk:
                break
            copied += len(chunk)
            if copied > limit:  # a body longer than its Content-Length said
                spooled.close()
                raise PayloadTooLarge(limit)
            spooled.write(chunk)
        spooled.seek(0)
        return spooled


class SpooledJSONParser(SpooledBodyParser):
    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None):
        spooled = super().parse(stream, media_type, parser_context)
        try:
            _refuse_deep_nesting(spooled)
        except exceptions.ParseError:
            spooled.close()
            raise
        return spooled


class SpooledCSVParser(SpooledBodyParser):
    media_type = "text/csv"


def json_object(data, what: str = "The request body") -> dict:
    """The parsed body of an endpoint that takes one object; 400 for anything else."""
    if not isinstance(data, dict):
        raise exceptions.ParseError(f"{what} must be a JSON object of field names and values, not {_kind(data)}.")
    return data


def _kind(value) -> str:
    return {list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(type(value), "a number")


__all__ = ["LimitedJSONParser", "SpooledCSVParser", "SpooledJSONParser", "json_object"]
