"""Make a drawing or a photo look like an MNIST digit, in NumPy.

MNIST digits were made like this (LeCun et al.): the ink's bounding box was scaled so its longer
side is 20 px, keeping the aspect ratio, with anti-aliasing (so edges are grey); then that patch
was placed in a 28×28 field so that its centre of mass sits at the centre. A network trained on
MNIST has only ever seen digits like that, so a drawing must go through the same steps:

    1. grayscale      pixels → one number in [0, 1] per pixel (ink may live in the alpha channel)
    2. white on black  invert if the background is light (a photo of ink on paper), and subtract the
                      paper's uneven lighting
    3. clean          background → 0, ink → 1, faint noise → 0
    4. crop           to the ink's bounding box
    5. scale          longer side → 20 px, area-averaged (each new pixel is the mean of the old
                      pixels it covers, which is what anti-aliasing means)
    6. centre         paste into 28×28 so the centre of mass lands on pixel (14, 14)

The result is float32 in [0, 1] with the digit's brightest pixel at 1, like MNIST's uint8 / 255.
"""
import io
from struct import error as struct_error
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

MNIST_SIZE = 28          # the network's input is 28×28
DIGIT_BOX = 20           # the longer side of the digit inside it
MNIST_CENTRE = 14        # MNIST's mean centre of mass (row, col) is (14.0, 14.0) in pixel indices
WORK_SIDE = 560          # bigger images are first shrunk to this (speed; the detail is lost at 20 px anyway)
MAX_PIXELS = 4_000_000   # arrays bigger than this are refused (a 4-megapixel image is 128 MB as RGBA float64)
MIN_SIDE = 8             # a digit needs at least 8 px each way (a 1×1 or 1×5000 image has no shape to read)
MAX_ASPECT = 10          # nor can it be a strip: the longer side at most 10× the shorter
# Uploaded files: decoded only if at most 16 megapixels (a 12-MP phone photo fits), then shrunk at once so the
# longer side is ≤ 1,024 px: the digit ends up 20 px tall, so more detail is never used. At 16 MP the one
# full-size RGBA decode is 64 MB; every later step works on ≤ 1 MP.
MAX_DECODE_PIXELS = 16_000_000
DECODE_SIDE = 1024
IMAGE_FORMATS = ("PNG", "JPEG", "WEBP")    # what the uploader accepts; Pillow's other decoders are never tried
MIN_CONTRAST = 0.15      # ink must differ from the background by this much, else "nothing drawn"
NOISE = 0.25             # after cleaning, pixels below this are set to 0 (paper grain, shadows)
MIN_INK_SIDE = 0.06      # ink smaller than this fraction of the image's longer side is a speck, not a digit

BLANK_MESSAGE = "Draw a digit: the canvas is empty."
SPECK_MESSAGE = "Draw a digit: there is only a speck of ink — draw it bigger."
FLAT_MESSAGE = "No digit found: the image has no ink that stands out from the background."


@dataclass
class Prepared:
    """A drawing made MNIST-like. ``image`` is None when there is no digit to classify (see ``message``)."""
    image: np.ndarray = None      # (28, 28) float32 in [0, 1], white digit on black
    message: str = None           # why there is no digit, e.g. "Draw a digit: ..."
    steps: dict = field(default_factory=dict)   # name -> 2-D image after each step, for the page to show
    inverted: bool = False        # the input was dark ink on a light background

    @property
    def x(self):
        """The network's input vector (784,)."""
        return self.image.reshape(-1)


def prepare_digit(pixels):
    """Steps 1–6 above for an image array (H, W), (H, W, 3) or (H, W, 4); uint8 0–255 or float 0–1."""
    gray = to_gray(pixels)                                   # (H, W)
    gray = shrink(gray, WORK_SIDE)                           # (≤560, ≤560)
    steps = {"grayscale": gray}
    inverted = is_dark_on_light(gray)
    if inverted:
        gray = flatten_lighting(1.0 - gray)
        steps["inverted, lighting evened out"] = gray
    ink = clean(gray)
    if ink is None:
        return Prepared(message=FLAT_MESSAGE if inverted or gray.max() > 0 else BLANK_MESSAGE,
                        steps=steps, inverted=inverted)
    steps["cleaned"] = ink
    rows, cols = ink_box(ink)
    if max(rows.stop - rows.start, cols.stop - cols.start) < MIN_INK_SIDE * max(ink.shape):
        return Prepared(message=SPECK_MESSAGE, steps=steps, inverted=inverted)
    crop = ink[rows, cols]                                   # (h, w)
    steps["cropped"] = crop
    patch = fit_in_box(crop, DIGIT_BOX)                      # (≤20, ≤20), longer side 20
    steps["scaled to 20 px"] = patch
    image = centre_by_mass(patch, MNIST_SIZE).astype(np.float32)   # (28, 28)
    steps["centred 28×28"] = image
    return Prepared(image=image, steps=steps, inverted=inverted)


# ---- 1. grayscale -----------------------------------------------------------------------

def to_gray(pixels):
    """One intensity in [0, 1] per pixel: luminance 0.299 R + 0.587 G + 0.114 B.

    With an alpha channel α, the picture is what you would see over a background that contrasts
    with the ink: gray = α·lum + (1 − α)·bg, with bg = black for light ink and white for dark ink
    (a canvas with a transparent background keeps its strokes only in α).
    """
    p = _as_unit_floats(pixels)
    if p.ndim == 2:
        return p
    lum = p[..., :3] @ np.array([0.299, 0.587, 0.114])      # (H, W)
    if p.shape[2] == 3:
        return lum
    alpha = p[..., 3]                                        # (H, W)
    if alpha.min() == 1.0:
        return lum
    seen = alpha > 0.5
    ink_is_dark = seen.any() and np.median(lum[seen]) < 0.5
    background = 1.0 if ink_is_dark else 0.0
    return alpha * lum + (1.0 - alpha) * background


def _as_unit_floats(pixels):
    """Check an image array and return it as float64 in [0, 1]; raise ValueError saying what is wrong."""
    p = np.asarray(pixels)
    if p.ndim == 3 and p.shape[2] == 1:
        p = p[..., 0]
    if not (p.ndim == 2 or (p.ndim == 3 and p.shape[2] in (3, 4))):
        raise ValueError(f"expected an image of shape (H, W), (H, W, 3) or (H, W, 4); got {p.shape}")
    if p.shape[0] < 1 or p.shape[1] < 1:
        raise ValueError(f"the image is empty (shape {p.shape})")
    check_image_size(p.shape[1], p.shape[0])
    if p.shape[0] * p.shape[1] > MAX_PIXELS:
        raise ValueError(f"the image is too large ({p.shape[1]}×{p.shape[0]} px); "
                         f"at most {MAX_PIXELS // 1_000_000} megapixels")
    if p.dtype == np.uint8:
        return p / 255.0
    if p.dtype == bool or not np.issubdtype(p.dtype, np.floating):
        raise ValueError(f"pixels must be uint8 (0–255) or floats in [0, 1]; got dtype {p.dtype}")
    p = p.astype(np.float64)
    if not np.isfinite(p).all():
        raise ValueError("the image contains NaN or infinite values")
    if p.min() < 0 or p.max() > 1:
        raise ValueError(f"float pixels must lie in [0, 1]; got values in [{p.min():g}, {p.max():g}]")
    return p


def check_image_size(width, height, max_pixels=MAX_PIXELS):
    """ValueError unless a width × height image can hold a digit: ≥ MIN_SIDE each way, not a strip, not huge."""
    if min(width, height) < MIN_SIDE:
        raise ValueError(f"the image is {width}×{height} px; a digit needs at least {MIN_SIDE} px each way")
    if max(width, height) > MAX_ASPECT * min(width, height):
        raise ValueError(f"the image is {width}×{height} px, a strip; crop it to the digit (at most "
                         f"{MAX_ASPECT}× longer one way than the other)")
    if width * height > max_pixels:
        raise ValueError(f"the image is {width}×{height} px; at most {max_pixels / 1e6:g} megapixels, "
                         "please shrink it")


@dataclass
class Decoded:
    """An uploaded image as pixels: uint8 (H, W) or (H, W, 4), and its size in the file."""
    pixels: np.ndarray
    original_size: tuple          # (width, height) as stored in the file

    @property
    def downscaled(self):
        return self.original_size != (self.pixels.shape[1], self.pixels.shape[0])


def decode_image(data, max_pixels=MAX_DECODE_PIXELS, side=DECODE_SIDE):
    """PNG/JPEG/WebP bytes → Decoded, shrunk so the longer side is ≤ side; ValueError with a reason otherwise.

    The size is checked from the file's header, before any pixel is decoded; a JPEG is decoded at a
    reduced scale directly (draft), anything else is shrunk (thumbnail, area-averaging) right after decoding.
    """
    try:
        image = Image.open(io.BytesIO(data), formats=list(IMAGE_FORMATS))
        size = image.size
        check_image_size(*size, max_pixels=max_pixels)
        image.draft("RGB" if image.mode != "L" else "L", (side, side))     # JPEG only: decode at 1/2..1/8 scale
        image = ImageOps.exif_transpose(image)          # phone photos: apply the camera's rotation
        image.thumbnail((side, side), Image.Resampling.BOX)
        mode = "RGBA" if "A" in image.getbands() or "transparency" in image.info else "L"
        return Decoded(np.asarray(image.convert(mode)), size)
    except Image.DecompressionBombError:           # Pillow's own limit, far above ours: refused at open
        raise ValueError(f"the image has over {2 * Image.MAX_IMAGE_PIXELS / 1e6:.0f} megapixels; at most "
                         f"{max_pixels / 1e6:g} megapixels, please shrink it") from None
    except UnidentifiedImageError:
        raise ValueError("this is not a PNG, JPEG or WebP image (or it is damaged)") from None
    except (OSError, SyntaxError, EOFError, IndexError, struct_error) as e:
        raise ValueError(f"the image file is damaged or truncated ({e})") from None


# ---- 2. white on black ------------------------------------------------------------------

def is_dark_on_light(gray):
    """True if the background is light: the median of the border pixels is above ½ (MNIST is white on black)."""
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    return bool(np.median(border) > 0.5)


def flatten_lighting(gray, grid=4, paper=20):
    """Subtract uneven lighting: in each cell of a grid×grid split the paper's level is a low percentile
    (ink is brighter after inverting, and a minority of the cell); interpolated to full size and removed."""
    h, w = gray.shape
    cells = [[np.percentile(gray[np.ix_(r, c)], paper) for c in np.array_split(np.arange(w), grid)]
             for r in np.array_split(np.arange(h), grid)]
    background = resize(np.array(cells), (h, w))            # (H, W)
    return np.clip(gray - background, 0.0, 1.0)


# ---- 3. clean ---------------------------------------------------------------------------

def clean(gray):
    """Stretch background → 0 and ink → 1, drop faint noise; None if there is no ink.

        x = clip((gray − bg) / (ink − bg), 0, 1),   then x = 0 where x < NOISE

    bg = the median pixel (most of an image is background), ink = the 99.9th percentile
    (robust to a few hot pixels, yet a thin stroke covering 0.1 % of the image still counts).
    """
    bg = float(np.median(gray))
    ink = float(np.percentile(gray, 99.9))
    if ink - bg < MIN_CONTRAST:
        ink = float(gray.max())            # a dot so small it is under the percentile
        if ink - bg < MIN_CONTRAST:
            return None
    x = np.clip((gray - bg) / (ink - bg), 0.0, 1.0)
    x[x < NOISE] = 0.0
    return x


# ---- 4. crop ----------------------------------------------------------------------------

def ink_box(x, speck=0.02):
    """The bounding box (row slice, column slice) of the ink.

    Rows (columns) whose total ink is under ``speck`` × the fullest row's (column's) are ignored, so a
    stray dot of noise far from the digit does not stretch the box.
    """
    rows = _ink_span(x.sum(axis=1), speck)
    cols = _ink_span(x.sum(axis=0), speck)
    return rows, cols


def _ink_span(profile, speck):
    """slice(first, last + 1) over the entries of profile (ink per row or column) above speck × max."""
    if profile.max() <= 0:
        raise ValueError("the image has no ink")
    hits = np.flatnonzero(profile >= speck * profile.max())
    return slice(int(hits[0]), int(hits[-1]) + 1)


# ---- 5. scale ---------------------------------------------------------------------------

def fit_in_box(crop, box=DIGIT_BOX):
    """Resize so the longer side is ``box`` px, keeping the aspect ratio; rescale so the max is 1."""
    h, w = crop.shape
    scale = box / max(h, w)
    new_h, new_w = max(1, round(h * scale)), max(1, round(w * scale))
    patch = resize(crop, (new_h, new_w))
    top = patch.max()
    return patch / top if top > 0 else patch


def resize(image, shape):
    """Resize a 2-D image to ``shape`` = (rows, cols) as  out = R_rows · image · R_colsᵀ.

    Each R is a (new, old) matrix of weights: area-averaging when shrinking, linear interpolation
    when enlarging (see resample_matrix).
    """
    R_rows = resample_matrix(image.shape[0], shape[0])     # (new_h, h)
    R_cols = resample_matrix(image.shape[1], shape[1])     # (new_w, w)
    return R_rows @ image @ R_cols.T                        # (new_h, new_w)


def resample_matrix(n_old, n_new):
    """Weights M (n_new, n_old) with new = M · old along one axis; each row sums to 1.

    Shrinking (n_new ≤ n_old): new pixel i covers old interval [i s, (i+1) s) with s = n_old / n_new;
        M[i, j] = (overlap of that interval with old pixel [j, j+1)) / s      — the area average.
    Enlarging: new pixel i's centre maps to old position t = (i + ½) / s' − ½ with s' = n_new / n_old,
        and M[i] puts weights 1 − f and f on the old pixels ⌊t⌋ and ⌊t⌋ + 1 (f = t − ⌊t⌋) — linear interpolation.
    """
    if n_new <= n_old:
        s = n_old / n_new
        start = np.arange(n_new)[:, None] * s                 # (n_new, 1)
        j = np.arange(n_old)[None, :]                          # (1, n_old)
        overlap = np.clip(np.minimum(start + s, j + 1) - np.maximum(start, j), 0.0, None)
        return overlap / s                                     # (n_new, n_old)
    t = np.clip((np.arange(n_new) + 0.5) * n_old / n_new - 0.5, 0, n_old - 1)   # (n_new,)
    left = np.floor(t).astype(int)
    right = np.minimum(left + 1, n_old - 1)
    f = t - left
    M = np.zeros((n_new, n_old))
    np.add.at(M, (np.arange(n_new), left), 1 - f)
    np.add.at(M, (np.arange(n_new), right), f)
    return M


def shrink(gray, max_side):
    """Area-average a big image down so its longer side is at most max_side (small ones are returned as is).

    Whole factors first (the mean of each k×k block, cheap), then resize() for the fractional rest.
    """
    h, w = gray.shape
    k = max(h, w) // max_side
    if k >= 2:
        h, w = h // k, w // k
        gray = gray[:h * k, :w * k].reshape(h, k, w, k).mean(axis=(1, 3))   # (h, w)
    if max(h, w) <= max_side:
        return gray
    scale = max_side / max(h, w)
    return resize(gray, (max(1, round(h * scale)), max(1, round(w * scale))))


# ---- 6. centre ---------------------------------------------------------------------------

def centre_of_mass(image):
    """(row, col) of the intensity-weighted mean pixel position: Σ x_ij · (i, j) / Σ x_ij."""
    mass = image.sum()
    rows = np.arange(image.shape[0]) @ image.sum(axis=1) / mass
    cols = np.arange(image.shape[1]) @ image.sum(axis=0) / mass
    return float(rows), float(cols)


def centre_by_mass(patch, size=MNIST_SIZE, centre=MNIST_CENTRE):
    """Paste patch into a size×size black field, shifted by whole pixels so its centre of mass is at
    (centre, centre) — kept inside the field, so no ink is cut off."""
    h, w = patch.shape
    if h > size or w > size:
        raise ValueError(f"patch {patch.shape} does not fit in {size}×{size}")
    cy, cx = centre_of_mass(patch)
    top = int(np.clip(round(centre - cy), 0, size - h))
    left = int(np.clip(round(centre - cx), 0, size - w))
    field_ = np.zeros((size, size))
    field_[top:top + h, left:left + w] = patch
    return field_
