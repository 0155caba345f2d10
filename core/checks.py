"""Checks on numbers that come from people: a clear ValueError that says what was expected."""
import math


def finite_number(value, name, low=-math.inf, high=math.inf, above=False):
    """float(value) if it is a finite number with low ≤ value ≤ high (low < value when above=True)."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number; got {value!r}") from None
    if not (math.isfinite(value) and (value > low if above else value >= low) and value <= high):
        raise ValueError(f"{name} must be {_expected(low, high, above)}; got {value:g}")
    return value


def _expected(low, high, above):
    """'between −1 and 1', 'a finite number ≥ 0', 'a finite number > 0 and ≤ 1,000', 'a finite number'."""
    if low > -math.inf and high < math.inf and not above:
        return f"between {_show(low)} and {_show(high)}"
    parts = ([f"{'>' if above else '≥'} {_show(low)}"] if low > -math.inf else []) + \
            ([f"≤ {_show(high)}"] if high < math.inf else [])
    return " ".join(["a finite number", " and ".join(parts)]).strip()


def _show(x):
    return f"{x:,.0f}".replace("-", "−") if float(x).is_integer() else f"{x:g}"
