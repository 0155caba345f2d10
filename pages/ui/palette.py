"""The app's colours for categories and signs, chosen so colour-blind readers can tell them apart.

tests/test_palette.py simulates protanopia, deuteranopia and tritanopia (Machado et al. 2009) and checks
that every pair of categorical colours, and the two ends of the diverging scale, stay far apart in CIELAB.

- CATEGORICAL: the Okabe & Ito (2008) palette, ordered for lines on white (yellow, the faintest, last).
  Eight colours; more categories than that need a second cue (dash, marker, label), not a ninth colour.
- POSITIVE / NEGATIVE: blue for > 0, orange for < 0, the sign colours of every network diagram, weight
  picture and gradient map (blue–orange stays apart for every kind of colour blindness; red–green does not).
- DIVERGING: a Plotly colorscale from NEGATIVE through near-white at 0 to POSITIVE; centre it on 0 with
  zmid=0 (or cmin=−m, cmax=m) so white means zero.
- SEQUENTIAL: viridis, for sizes that have no sign (it is readable in grey and for every CVD).
"""

BLUE, VERMILLION, GREEN, PURPLE, ORANGE, SKY, BLACK, YELLOW = (
    "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")
CATEGORICAL = (BLUE, VERMILLION, GREEN, PURPLE, ORANGE, SKY, BLACK, YELLOW)

POSITIVE, NEGATIVE = "#2166AC", "#D55E00"
DIVERGING = [[0.0, NEGATIVE], [0.25, "#F4A582"], [0.5, "#F7F7F7"], [0.75, "#92C5DE"], [1.0, POSITIVE]]
SEQUENTIAL = "Viridis"
NEUTRAL = "#BBBBBB"          # not computed yet / no sign
HIGHLIGHT = "#E4572E"        # the app's primary colour (Streamlit theme): what the current step uses

