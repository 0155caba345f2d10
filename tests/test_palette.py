"""The shared palette stays readable for colour-blind learners: simulate the three dichromacies and measure.

Simulation: Machado, Oliveira & Fernandes (2009), "A Physiologically-based Model for Simulation of Color
Vision Deficiency", the severity-1.0 matrices, applied in linear RGB. Distance: CIE76 ΔE in CIELAB (D65).
A ΔE of about 2 is just noticeable; categories that a reader must tell apart in a legend need far more.
"""
import itertools

import numpy as np
import pytest

from pages.ui import palette

MACHADO = {       # linear-RGB matrices, severity 1.0 (Table 1 of the paper)
    "protanopia": [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216],
                   [-0.003882, -0.048116, 1.051998]],
    "deuteranopia": [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
                     [-0.011820, 0.042940, 0.968881]],
    "tritanopia": [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602],
                   [0.004733, 0.691367, 0.303900]],
}
SRGB_TO_XYZ = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
D65 = np.array([0.95047, 1.0, 1.08883])
CATEGORY_DELTA_E = 15.0     # Okabe–Ito's closest simulated pair measures 16.1; the old red/green mix 3.8
SIGN_DELTA_E = 60.0         # the two ends of a diverging scale must be far apart, not just distinguishable


def linear_rgb(hex_colour):
    c = np.array([int(hex_colour.lstrip("#")[i:i + 2], 16) for i in (0, 2, 4)]) / 255.0      # (3,) sRGB
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def lab(rgb_linear):
    """CIELAB (L*, a*, b*) of a linear-RGB colour."""
    t = SRGB_TO_XYZ @ np.clip(rgb_linear, 0, 1) / D65
    f = np.where(t > (6 / 29) ** 3, np.cbrt(t), t / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def seen(hex_colour, deficiency):
    rgb = linear_rgb(hex_colour)
    return lab(rgb if deficiency is None else np.array(MACHADO[deficiency]) @ rgb)


def delta_e(a, b, deficiency):
    return float(np.linalg.norm(seen(a, deficiency) - seen(b, deficiency)))


def test_lab_conversion_matches_published_values():
    """Anchor the arithmetic: sRGB white is L* = 100, pure red is (53.24, 80.09, 67.20) (Lindbloom)."""
    np.testing.assert_allclose(seen("#FFFFFF", None), [100, 0, 0], atol=0.05)
    np.testing.assert_allclose(seen("#FF0000", None), [53.24, 80.09, 67.20], atol=0.1)


def test_the_simulation_confuses_red_and_green_as_a_dichromat_does():
    """Without this the checks below could pass with a simulation that changes nothing."""
    assert delta_e("#76B041", "#F2A541", None) > 30
    assert delta_e("#76B041", "#F2A541", "protanopia") < 5


@pytest.mark.parametrize("deficiency", [None, *MACHADO])
def test_every_pair_of_categorical_colours_stays_apart(deficiency):
    worst = min(itertools.combinations(palette.CATEGORICAL, 2), key=lambda p: delta_e(*p, deficiency))
    assert delta_e(*worst, deficiency) > CATEGORY_DELTA_E, (deficiency, worst)


@pytest.mark.parametrize("deficiency", [None, *MACHADO])
def test_the_sign_colours_and_the_diverging_scale_stay_apart(deficiency):
    assert delta_e(palette.POSITIVE, palette.NEGATIVE, deficiency) > SIGN_DELTA_E
    stops = [colour for _, colour in palette.DIVERGING]
    assert stops[0] == palette.NEGATIVE and stops[-1] == palette.POSITIVE
    assert delta_e(stops[1], stops[-2], deficiency) > CATEGORY_DELTA_E       # the pale halves differ too


def test_the_diverging_scale_is_lightest_at_zero():
    """Lightness rises from each end to the middle, so |value| reads as darkness even in grey."""
    lightness = [seen(colour, None)[0] for _, colour in palette.DIVERGING]
    middle = len(lightness) // 2
    assert lightness[:middle + 1] == sorted(lightness[:middle + 1])
    assert lightness[middle:] == sorted(lightness[middle:], reverse=True)
