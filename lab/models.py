"""Which model a page uses, and what a model's card allows: pure functions over ModelCards.

The Draw page can use the model trained in this session, a model the learner uploaded, or the one
shipped with the app. ``choose_digit_model`` decides among them (the learner's pick if it is usable,
else the first usable one in the order given) and says why; ``digit_model_problem`` says why a model
cannot read digits. ``evaluate_on_card_data`` measures a model on the data set its card names.
"""
from dataclasses import dataclass, replace

from lab.modelfile import DATASET_TITLES, ModelCard, load_model, with_origin
from lab.data import DataUnavailableError

DIGIT_INPUTS, DIGIT_CLASSES = 28 * 28, 10


@dataclass(frozen=True)
class Candidate:
    """A model a page could use: a key (for session_state and the radio), a label, its card and layer sizes."""
    key: str
    label: str
    card: ModelCard
    sizes: tuple


@dataclass(frozen=True)
class Choice:
    """The model to use (its key), why, and for each refused candidate why not."""
    key: str
    reason: str
    refused: dict          # key -> why it cannot be used


def digit_model_problem(card, sizes):
    """None if a model with this card and these layer sizes can classify MNIST digits, else why not."""
    if sizes[0] != DIGIT_INPUTS or sizes[-1] != DIGIT_CLASSES:
        return (f"it takes {sizes[0]} inputs and gives {sizes[-1]} outputs; a digit model needs "
                f"{DIGIT_INPUTS} inputs (28×28 pixels) and {DIGIT_CLASSES} outputs")
    if card.dataset not in ("mnist", "unknown"):
        return f"it learned {card.dataset_title}, not handwritten digits"
    return None


def choose_digit_model(candidates, wanted=None):
    """Choose among candidates (in order of preference) for the Draw page.

    The learner's pick ``wanted`` wins if it is usable; otherwise the first usable candidate. Returns a
    Choice, or raises ValueError if no candidate can read digits (the bundled default always can).
    """
    refused = {c.key: why for c in candidates if (why := digit_model_problem(c.card, c.sizes))}
    usable = [c for c in candidates if c.key not in refused]
    if not usable:
        raise ValueError("no model here can read digits: " +
                         "; ".join(f"{c.label}: {refused[c.key]}" for c in candidates))
    picked = next((c for c in usable if c.key == wanted), None)
    if picked is not None:
        return Choice(picked.key, "your choice", refused)
    first = usable[0]
    if wanted in refused:
        reason = f"{_label(candidates, wanted)} cannot be used: {refused[wanted]}"
    elif wanted is not None:
        reason = "the model you chose is gone"
    else:
        reason = "the best of your models by test accuracy" if len(usable) > 1 else "the only model that reads digits"
    return Choice(first.key, reason, refused)


def _label(candidates, key):
    return next(c.label for c in candidates if c.key == key)


def evaluate_on_card_data(net, card, load_dataset, evaluate):
    """(result of evaluate(net, x_test, y_test, normalize), the Dataset) on the data set the card names.

    load_dataset(title) returns a lab.data.Dataset (e.g. the page's cached loader); evaluate is
    lab.trainer.evaluate. Raises ValueError saying why the model cannot be evaluated here.
    """
    if card.dataset not in DATASET_TITLES:
        raise ValueError("its file does not say which data set it learned, so there is no test set to "
                         "measure it on" if card.dataset == "unknown" else
                         f"it learned {card.dataset!r}, a data set this app does not have")
    if net.sizes[0] != DIGIT_INPUTS or net.sizes[-1] != DIGIT_CLASSES:
        raise ValueError(f"it takes {net.sizes[0]} inputs and gives {net.sizes[-1]} outputs, not 784 → 10")
    ds = load_dataset(DATASET_TITLES[card.dataset])
    images = ds.x_test.reshape(len(ds.x_test), -1)
    return evaluate(net, images, ds.y_test, card.normalize, n_mistakes=0), ds


def read_model_upload(name, data, load_dataset, evaluate):
    """(net, card, what was measured) for the bytes of an uploaded model file.

    The card keeps what the file says (data set, input scaling, settings) and records the upload as its
    origin; the test accuracy is measured again here on the data set the card names when that data is
    on this computer, else the file's own figure is kept and the text says so. ValueError if the file
    is not a usable 784 → 10 model.
    """
    net, card = load_model(data)
    if net.sizes[0] != DIGIT_INPUTS or net.sizes[-1] != DIGIT_CLASSES:
        raise ValueError(f"this network takes {net.sizes[0]} inputs and gives {net.sizes[-1]} outputs; a model "
                         f"here needs {DIGIT_INPUTS} inputs (28×28 pixels) and {DIGIT_CLASSES} outputs (one per class)")
    card = with_origin(card, "upload", name)
    try:
        result, ds = evaluate_on_card_data(net, card, load_dataset, evaluate)
    except ValueError as e:
        return net, card, f"Test accuracy not measured here: {e}"
    except (DataUnavailableError, OSError) as e:
        return net, card, f"Test accuracy not measured here: {card.dataset_title} is not available ({e})"
    card = replace(card, test_accuracy=float(result["accuracy"]), test_size=int(len(ds.y_test)), test_data=ds.source)
    return net, card, f"Measured here: {card.accuracy_text()}"


POOR_ACCURACY = 0.5          # a digit model below this test accuracy is broken (a diverged or pitfall run:
                             # chance is 10 %, the default model 94 %): the Draw page does not pick it by itself


def by_preference(candidates):
    """Candidates best first: by their cards' test accuracy (unmeasured ones last), ties in the given order.

    With no pick of the learner's, the Draw page uses the first usable one: "the best of what you have",
    so a broken session model never silently replaces the default.
    """
    def rank(c):
        return -c.card.test_accuracy if c.card.test_accuracy is not None else 1.0
    return sorted(candidates, key=rank)


def poor_model_warning(candidate, threshold=POOR_ACCURACY):
    """A sentence warning that a model scores below `threshold` on its test set, else None."""
    acc = candidate.card.test_accuracy
    if acc is None or acc >= threshold:
        return None
    return (f"{candidate.label} scores only {acc:.1%} on its test images (chance is 10%): it did not learn to "
            f"read digits — a diverged or pitfall run leaves such a network. Its answers below mean little.")
