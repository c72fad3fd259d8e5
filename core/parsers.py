"""The API's JSON parser: DRF's, with the nesting limit of :mod:`core.json_limits`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework.exceptions import ParseError

# DRF has get_encoding (parsers.py); its stubs leave it out.
from rest_framework.parsers import JSONParser, get_encoding  # type: ignore[attr-defined]

from core.json_limits import MAX_REQUEST_JSON_DEPTH, loads_bounded


def _strict_constant(value: str) -> None:
    raise ValueError(f"{value} is not valid JSON")


class BoundedJSONParser(JSONParser):
    """DRF's JSON parser with a nesting limit: a deeply nested body is a 400 with a sentence."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None) -> Any:
        encoding = get_encoding(parser_context or {})
        raw = stream.read() if stream is not None else b""
        try:
            text = raw.decode(encoding)
            constant = _strict_constant if self.strict else None
            return loads_bounded(text, max_depth=MAX_REQUEST_JSON_DEPTH, parse_constant=constant)
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}.") from None
