"""JSON from outside, read with a nesting limit: a 3 KB body of 1,500 brackets must be a 400, not a RecursionError.

The depth is measured before parsing, without recursion (strings are blanked out by one
regular expression, then the brackets are counted), so neither the parser nor anything
that walks the result later can run out of stack.  :class:`core.parsers.BoundedJSONParser` is
the API's JSON parser (every DRF view, the token view included); :func:`loads_bounded` is for
any other code that reads JSON someone sent (an uploaded model's config.json).
"""

from __future__ import annotations

import json
import re
from itertools import accumulate
from typing import Any

# Requests nest a few levels (an operation's params sit at depth 4); a Keras config, a few dozen.
MAX_REQUEST_JSON_DEPTH = 20

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


def json_depth(text: str) -> int:
    """How deeply arrays and objects nest in a JSON text (0 for a scalar); brackets inside strings do not count."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub('""', text))
    return max(accumulate(1 if c in "[{" else -1 for c in brackets), default=0)


def loads_bounded(text: str | bytes, *, max_depth: int, **kwargs: Any) -> Any:
    """``json.loads`` that refuses input nested deeper than ``max_depth``.

    Raises
    ------
    ValueError
        Not JSON, not UTF-8, or nested too deeply (the message says how deep and the limit).
    """
    if isinstance(text, bytes | bytearray):
        text = bytes(text).decode("utf-8")  # UnicodeDecodeError is a ValueError
    depth = json_depth(text)
    if depth > max_depth:
        raise ValueError(f"the JSON nests {depth} levels deep; at most {max_depth} are accepted")
    try:
        return json.loads(text, **kwargs)
    except RecursionError:  # cannot happen below the depth limit; kept so no caller ever sees one
        raise ValueError(f"the JSON nests more than {max_depth} levels deep") from None
