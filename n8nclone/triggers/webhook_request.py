"""A webhook call as the run's input: read the body within its limit, parse it, and put
method, path, query, headers and body together (what `trigger` means in expressions)."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import AsyncIterator, Iterable
from typing import Any
from urllib.parse import parse_qsl

from starlette.datastructures import Headers, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from n8nclone.triggers.webhook_reply import WebhookRefused


async def read_body(chunks: AsyncIterator[bytes], limit: int,
                    declared_length: str | None = None) -> bytes:
    """The whole body, refused (413) as soon as it passes `limit` bytes: a declared
    Content-Length over the limit is refused before reading, a chunked body while reading."""
    if declared_length and declared_length.isdigit() and int(declared_length) > limit:
        raise _too_large(limit)
    body = bytearray()
    async for chunk in chunks:
        body += chunk
        if len(body) > limit:
            raise _too_large(limit)
    return bytes(body)


def _too_large(limit: int) -> WebhookRefused:
    return WebhookRefused(413, f"the body is larger than the limit of {limit} bytes")


def media_type(content_type: str | None) -> str:
    """`application/json` of `Application/JSON; charset=utf-8`."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def is_json(content_type: str | None) -> bool:
    """`application/json` or any `+json` type."""
    kind = media_type(content_type)
    return kind == "application/json" or kind.endswith("+json")


def multi_dict(pairs: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    """Pairs as a dict; a name given several times maps to the list of its values."""
    result: dict[str, Any] = {}
    for name, value in pairs:
        if name not in result:
            result[name] = value
        elif isinstance(result[name], list):
            result[name].append(value)
        else:
            result[name] = [result[name], value]
    return result


def text_or_base64(raw: bytes) -> tuple[str, bool]:
    """UTF-8 text, or base64 when the bytes are not text (True then)."""
    try:
        return raw.decode("utf-8"), False
    except UnicodeDecodeError:
        return base64.b64encode(raw).decode("ascii"), True


def is_multipart(content_type: str | None) -> bool:
    """A `multipart/form-data` body (parsed by `parse_multipart`)."""
    return media_type(content_type) == "multipart/form-data"


def parse_body(raw: bytes, content_type: str | None) -> tuple[Any, bool]:
    """JSON (400 when malformed), an urlencoded form as a dict, else text; returns (body,
    whether it is base64). An empty body is None. Multipart: `parse_multipart`. Blocking
    for a large body: call it in a worker thread."""
    if not raw:
        return None, False
    if is_json(content_type):
        try:
            return json.loads(raw), False
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise WebhookRefused(400, f"the body is not valid JSON: {exc}") from None
    if media_type(content_type) == "application/x-www-form-urlencoded":
        text, _ = text_or_base64(raw)
        return multi_dict(parse_qsl(text, keep_blank_values=True)), False
    return text_or_base64(raw)


async def parse_multipart(raw: bytes, content_type: str) -> dict[str, Any]:
    """A multipart form: fields as text; a file as {filename, content_type, size, base64}."""

    async def stream() -> AsyncIterator[bytes]:
        yield raw

    parser = MultiPartParser(Headers({"content-type": content_type}), stream(),
                             max_part_size=len(raw) + 1)
    try:
        form = await parser.parse()
    except (MultiPartException, binascii.Error) as exc:
        raise WebhookRefused(400, f"the multipart body is not valid: {exc}") from None
    pairs: list[tuple[str, Any]] = []
    for name, value in form.multi_items():
        if isinstance(value, UploadFile):
            data = await value.read()
            await value.close()
            pairs.append((name, {"filename": value.filename, "content_type": value.content_type,
                                 "size": len(data), "base64": base64.b64encode(data).decode()}))
        else:
            pairs.append((name, value))
    return multi_dict(pairs)


def trigger_input(*, method: str, path: str, query_string: str,
                  headers: Iterable[tuple[str, str]], body: Any, body_base64: bool,
                  hidden_headers: Iterable[str] = ()) -> dict[str, Any]:
    """The run's input. Headers are lower-case; `hidden_headers` (credentials) are left out
    so they never reach the database or the run history."""
    hidden = {name.lower() for name in hidden_headers}
    joined: dict[str, str] = {}
    for name, value in headers:
        name = name.lower()
        if name not in hidden:
            joined[name] = f"{joined[name]}, {value}" if name in joined else value
    data = {"method": method, "path": path,
            "query": multi_dict(parse_qsl(query_string, keep_blank_values=True)),
            "headers": joined, "body": body}
    if body_base64:
        data["body_encoding"] = "base64"
    return data
