"""The design page's arithmetic: shapes and parameters as Keras builds them, and the designs it refuses."""

import pytest

from workshop.architecture import Design, expected_seconds, input_shape, summarise


def test_the_input_is_the_bundled_models_spectrogram():
    assert input_shape() == (129, 63)


def test_the_papers_design_has_the_shapes_and_parameters_of_the_bundled_network():
    summary = summarise(Design())

    shapes = {layer.name: layer.shape for layer in summary.layers}
    assert shapes["conv1"] == (129, 63, 16) and shapes["pool1"] == (64, 31, 16)
    assert shapes["pool2"] == (32, 15, 16) and shapes["pool3"] == (16, 7, 32)
    assert shapes["flatten"] == (16 * 7 * 32,) and shapes["probabilities"] == (10,)
    conv = 7 * 7 * 16 + 16 + 5 * 5 * 16 * 16 + 16 + 3 * 3 * 16 * 32 + 32
    assert summary.parameters == conv + (3584 * 128 + 128) + (128 * 10 + 10)
    assert summary.ok and summary.seconds > 0


@pytest.mark.parametrize(
    ("design", "field", "reason"),
    [
        (Design(filters=(16, 0, 32)), "filters_2", "at least one filter"),
        (Design(kernels=(7, 5, 40)), "kernels_3", "larger than its 32 × 15 input"),
        (Design(pools=(4, 4, 4)), "pools_3", "shrinks layer 3's 8 × 3 output to 2 × 0"),
        (Design(filters=(64, 64, 64), pools=(1, 1, 1), dense=512), "dense", "more than the 3,000,000"),
    ],
)
def test_it_refuses_impossible_designs_with_the_reason_on_the_field(design, field, reason):
    summary = summarise(design)

    assert not summary.ok
    assert reason in summary.problems[field]


def test_a_kernel_as_large_as_its_input_is_allowed():
    summary = summarise(Design(pools=(4, 4, 1), kernels=(7, 5, 3)))  # conv3 sees 8 × 3

    assert summary.ok and dict((layer.name, layer.shape) for layer in summary.layers)["conv3"] == (8, 3, 32)
    assert not summarise(Design(pools=(4, 4, 1), kernels=(7, 5, 4))).ok


def test_more_epochs_and_augmentation_take_longer():
    macs = summarise(Design()).macs
    assert expected_seconds(macs, 10, True) > expected_seconds(macs, 10, False) > expected_seconds(macs, 5, False)


def test_the_arithmetic_matches_the_network_keras_builds():
    from modelzoo import training

    design = Design(filters=(8, 24, 12), kernels=(3, 9, 5), pools=(3, 1, 2), dense=40)
    hyper = {k: v for k, v in design.hyperparameters().items() if k in training.DEFAULT_HYPERPARAMETERS}
    model = training.build_model(training.recipe_features(), 10, hyper)
    summary = summarise(design)

    keras_shapes = {layer.name: tuple(layer.output.shape[1:]) for layer in model.layers}
    for layer in summary.layers:
        assert keras_shapes[layer.name] == layer.shape, layer.name
    assert model.count_params() == summary.parameters
