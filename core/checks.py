"""Checks on numbers that come from people: a clear ValueError that says what was expected."""
import math


def finite_number(value, name, low=-math.inf, high=math.inf, above=False):
    """float(value) if it is a finite number with low ≤ value ≤ high (low < value when above=True)."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number; got {value!r}") from None
    bounds = _bounds(low, high, above)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number{' ' + bounds if bounds else ''}; got {value!r}")
    if not ((value > low if above else value >= low) and value <= high):
        raise ValueError(f"{name} must be {bounds}; got {value:g}")
    return value


def _bounds(low, high, above):
    """'between −1 and 1', '≥ 0', '> 0 and ≤ 1,000', or '' when there are no bounds."""
    if low > -math.inf and high < math.inf and not above:
        return f"between {_show(low)} and {_show(high)}"
    parts = ([f"{'>' if above else '≥'} {_show(low)}"] if low > -math.inf else []) + \
            ([f"≤ {_show(high)}"] if high < math.inf else [])
    return " and ".join(parts)


def _show(x):
    return f"{x:,.0f}".replace("-", "−") if float(x).is_integer() else f"{x:g}"
