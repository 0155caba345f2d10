"""lab.models: which model the Draw page uses, and an uploaded model measured on the data its card names."""
import numpy as np
import pytest

from lab.modelfile import ModelCard, model_bytes
from core.network import MLP
from lab.data import DataUnavailableError, Dataset
from lab.models import Candidate, choose_digit_model, digit_model_problem, evaluate_on_card_data, read_model_upload
from lab.trainer import evaluate

DIGITS = (784, 16, 10)
TRAINED = Candidate("trained", "Trained in this session", ModelCard(dataset="mnist", origin="page"), DIGITS)
UPLOADED = Candidate("uploaded", "Uploaded", ModelCard(dataset="unknown", origin="upload"), DIGITS)
DEFAULT = Candidate("default", "Default model", ModelCard(dataset="mnist", origin="default"), (784, 256, 10))
FASHION = Candidate("trained", "Trained in this session", ModelCard(dataset="fashion-mnist"), DIGITS)


def test_the_learners_pick_wins_when_it_can_read_digits():
    choice = choose_digit_model([TRAINED, UPLOADED, DEFAULT], wanted="uploaded")
    assert choice.key == "uploaded" and choice.reason == "your choice" and choice.refused == {}


def test_without_a_pick_the_first_usable_candidate_is_used():
    assert choose_digit_model([TRAINED, UPLOADED, DEFAULT]).key == "trained"
    assert choose_digit_model([DEFAULT]).reason == "the only model that reads digits"


def test_a_fashion_model_is_refused_by_its_card_and_a_stale_pick_falls_back_with_the_reason():
    choice = choose_digit_model([FASHION, DEFAULT], wanted="trained")
    assert choice.key == "default"
    assert choice.refused == {"trained": "it learned Fashion-MNIST, not handwritten digits"}
    assert choice.reason == "Trained in this session cannot be used: it learned Fashion-MNIST, not handwritten digits"


def test_a_pick_that_no_longer_exists_falls_back():
    choice = choose_digit_model([TRAINED, DEFAULT], wanted="uploaded")
    assert choice.key == "trained" and choice.reason == "the model you chose is gone"


def test_shape_decides_before_the_card():
    assert "gives 3 outputs" in digit_model_problem(ModelCard(dataset="mnist"), (784, 8, 3))
    assert digit_model_problem(ModelCard(dataset="unknown"), (784, 8, 10)) is None
    with pytest.raises(ValueError, match="no model here can read digits"):
        choose_digit_model([FASHION])


def _tiny_dataset(name, n=200, seed=0):
    """A Dataset whose test labels are a function of the image, so a model's accuracy on it is known."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    y = (x[:, 0, 0] % 10).astype(np.int64)
    return Dataset(name=name, x_train=x, y_train=y, x_test=x, y_test=y, class_names=[str(i) for i in range(10)],
                   source=f"{name} test source")


def _always_three():
    """784 → 10 that says 3 whatever the input: its accuracy on any test set is the share of 3s in it."""
    net = MLP([784, 10], activation="identity", seed=0)
    net.weights[0][...] = 0
    net.biases[0][...] = 0
    net.biases[0][3] = 5.0
    return net


def test_an_upload_is_measured_on_the_data_set_its_card_names_not_the_one_selected():
    net = _always_three()
    data = model_bytes(net, ModelCard(dataset="mnist", test_accuracy=0.99, test_size=10))
    loaded = {"MNIST": _tiny_dataset("mnist", seed=1), "Fashion-MNIST": _tiny_dataset("fashion-mnist", seed=2)}
    asked = []

    def load(title):
        asked.append(title)
        return loaded[title]

    got, card, text = read_model_upload("mine.npz", data, load, evaluate)
    assert asked == ["MNIST"]
    share_of_threes = float(np.mean(loaded["MNIST"].y_test == 3))
    assert card.test_accuracy == pytest.approx(share_of_threes) and card.test_size == 200
    assert card.test_data == "mnist test source" and card.origin == "upload" and card.origin_note == "mine.npz"
    assert text == f"Measured here: test accuracy {share_of_threes:.1%} on 200 MNIST test images"


def test_an_upload_whose_data_is_missing_keeps_the_files_figure_and_says_so():
    data = model_bytes(_always_three(), ModelCard(dataset="fashion-mnist", test_accuracy=0.8, test_size=10))

    def load(title):
        raise DataUnavailableError("Fashion-MNIST not found")

    _, card, text = read_model_upload("f.npz", data, load, evaluate)
    assert card.test_accuracy == 0.8 and "not measured here: Fashion-MNIST is not available" in text


def test_an_upload_that_names_no_data_set_is_not_measured():
    _, card, text = read_model_upload("x.npz", model_bytes(_always_three()), None, evaluate)
    assert card.dataset == "unknown" and "does not say which data set it learned" in text


def test_an_upload_with_the_wrong_shape_is_refused():
    with pytest.raises(ValueError, match="takes 100 inputs and gives 10 outputs"):
        read_model_upload("x.npz", model_bytes(MLP([100, 10])), None, evaluate)


def test_evaluate_on_card_data_uses_raw_pixels_when_the_card_says_so():
    net = MLP([784, 10], activation="identity", seed=0)
    net.weights[0][...] = 0
    net.weights[0][7, 0] = 1.0            # class 7's score is pixel 0 (0–255 raw, 0–1 scaled) ...
    net.biases[0][1] = 2.0                # ... class 1's is 2: raw pixels above 2 say 7, scaled ones never do
    ds = _tiny_dataset("mnist")
    raw, _ = evaluate_on_card_data(net, ModelCard(dataset="mnist", normalize=False), lambda t: ds, evaluate)
    scaled, _ = evaluate_on_card_data(net, ModelCard(dataset="mnist", normalize=True), lambda t: ds, evaluate)
    pixel = ds.x_test[:, 0, 0].astype(int)
    assert raw["accuracy"] == pytest.approx(np.mean(np.where(pixel > 2, 7, 1) == ds.y_test))
    assert scaled["accuracy"] == pytest.approx(np.mean(ds.y_test == 1))


def test_candidates_are_ranked_by_test_accuracy_with_unmeasured_ones_last():
    from lab.models import by_preference
    cards = {"trained": ModelCard(dataset="mnist", test_accuracy=0.082), "uploaded": ModelCard(dataset="mnist"),
             "default": ModelCard(dataset="mnist", test_accuracy=0.941), "other": ModelCard(dataset="mnist",
                                                                                            test_accuracy=0.941)}
    ranked = by_preference([Candidate(k, k, c, (784, 10)) for k, c in cards.items()])
    assert [c.key for c in ranked] == ["default", "other", "trained", "uploaded"]   # ties keep their order


def test_a_poor_model_is_warned_about_and_a_good_or_unmeasured_one_is_not():
    from lab.models import poor_model_warning
    poor = Candidate("trained", "Trained in this session", ModelCard(dataset="mnist", test_accuracy=0.082), (784, 10))
    assert "scores only 8.2%" in poor_model_warning(poor)
    for acc in (0.5, 0.97, None):
        fine = Candidate("trained", "T", ModelCard(dataset="mnist", test_accuracy=acc), (784, 10))
        assert poor_model_warning(fine) is None
