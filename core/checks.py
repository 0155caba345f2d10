"""Checks on numbers that come from people: a clear ValueError that says what was expected."""
import math


def finite_number(value, name, low=-math.inf, high=math.inf, above=False):
    """float(value) if it is a finite number with low ≤ value ≤ high (low < value when above=True)."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number; got {value!r}") from None
    in_range = (value > low if above else value >= low) and value <= high
    if not (math.isfinite(value) and in_range):
        raise ValueError(f"{name} must be a finite number{_bounds(low, high, above)}; got {value!r}")
    return value


def _bounds(low, high, above):
    """' ≥ 0 and ≤ 1,000', or '' when there are no bounds."""
    parts = ([f"{'>' if above else '≥'} {_show(low)}"] if low > -math.inf else []) + \
            ([f"≤ {_show(high)}"] if high < math.inf else [])
    return " " + " and ".join(parts) if parts else ""


def _show(x):
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:g}"
