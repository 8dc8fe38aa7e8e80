"""Reading integer index/search parameters the way knowhere does, with its error texts.

In Milvus the proxy passes build and search parameters to knowhere, whose
config layer (``Config::FormatAndCheck`` then ``Config::Load``) decides what
is an acceptable integer and words the rejection. Clients match on those
words, so they are reproduced here:

- a *string* value must be what C++ ``std::stoll`` accepts in full:
  ``"16"`` and ``" 16"`` pass, ``"16.0"`` is "wrong data type", ``"True"`` is
  "invalid integer value", and anything outside int32 is "integer value out
  of range";
- a *JSON* value (search ``params``) must be a JSON integer; strings go
  through the rule above, floats/bools/null are a "Type conflict";
- the integer must then lie in the parameter's closed range.

Every rejection is a :class:`MilvusError` 1100 whose text is knowhere's
message followed by ``: invalid parameter`` (how the proxy wraps it).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from elanus.core.errors import MilvusError, invalid_parameter

_INT32_MIN = -(2**31)
_INT32_MAX = 2**31 - 1
# std::stoll: optional leading whitespace, optional sign, then digits; it stops
# at the first non-digit and reports how far it got.
_STOLL_PREFIX = re.compile(r"[ \t\n\r\f\v]*[+-]?[0-9]+")


def int_from_string(key: str, value: str) -> int:
    """Parse a string parameter as knowhere's ``FormatAndCheck`` does (int32 only)."""
    match = _STOLL_PREFIX.match(value)
    if match is None:
        raise invalid_parameter(f"invalid integer value, key: '{key}', value: '{value}'")
    if match.end() < len(value):
        raise invalid_parameter(f"wrong data type in json, key: '{key}', value: '{value}'")
    number = int(match.group())
    if not _INT32_MIN <= number <= _INT32_MAX:
        raise invalid_parameter(f"integer value out of range, key: '{key}', value: '{value}'")
    return number


def int_from_json(key: str, value: Any) -> int:
    """Parse a decoded-JSON parameter as knowhere's ``Config::Load`` does (int32 only)."""
    if isinstance(value, str):
        return int_from_string(key, value)
    # bool is an int subclass in Python but a distinct JSON type for knowhere.
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid_parameter(
            f"Type conflict in json: param '{key}' ({_json_text(value)}) should be integer")
    if value > _INT32_MAX:
        raise invalid_parameter(
            f"Arithmetic overflow: param '{key}' ({value}) should not bigger than {_INT32_MAX}")
    return value


def check_range(key: str, value: int, bounds: tuple[int, int]) -> int:
    """``value`` if it lies in the closed range ``bounds``, else knowhere's out-of-range error."""
    lo, hi = bounds
    if not lo <= value <= hi:
        raise invalid_parameter(
            f"Out of range in json: param '{key}' ({value}) should be in range [{lo}, {hi}]")
    return value


def string_param(params: Mapping[str, str], key: str, bounds: tuple[int, int],
                 default: int | None) -> int:
    """An int build parameter from a string map: parsed, defaulted, range-checked.

    A missing key with no default is knowhere's "not exist in json" error.
    """
    raw = params.get(key)
    if raw is None:
        if default is None:
            raise missing_param(key)
        return default
    return check_range(key, int_from_string(key, raw), bounds)


def json_param(params: Mapping[str, Any], key: str, bounds: tuple[int, int]) -> int | None:
    """An int search parameter from a decoded JSON map, or ``None`` when absent."""
    if key not in params:
        return None
    return check_range(key, int_from_json(key, params[key]), bounds)


_FLOAT32_MAX_TEXT = "340282346638528859811704183484516925440.000000"


def float_json_param(params: Mapping[str, Any], key: str, low: float) -> float | None:
    """A float search parameter (knowhere ``CFG_FLOAT`` in ``[low, FLT_MAX]``) from a decoded
    JSON map, or ``None`` when absent. Strings are read as C's ``stof`` reads them."""
    if key not in params:
        return None
    value = params[key]
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            raise invalid_parameter(f"invalid float value, key: '{key}', value: '{value}'") from None
    elif isinstance(value, bool) or not isinstance(value, int | float):
        raise invalid_parameter(f"Type conflict in json: param '{key}' ({_json_text(value)}) should be a number")
    else:
        number = float(value)
    if not low <= number <= _FLOAT32_MAX:
        raise invalid_parameter(f"Out of range in json: param '{key}' ({_json_text(value)}) should be in "
                                f"range [{low:.6f}, {_FLOAT32_MAX_TEXT}]")
    return number


_FLOAT32_MAX = 3.4028234663852886e38


def missing_param(key: str) -> MilvusError:
    return invalid_parameter(f"param '{key}' not exist in json")


def _json_text(value: Any) -> str:
    # nlohmann::json::dump spelling: true/null, compact separators.
    try:
        return json.dumps(value, separators=(",", ":"))
    except (TypeError, ValueError):
        return repr(value)
