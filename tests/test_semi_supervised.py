"""Semi-supervised GAN: the K+1 discriminator's probabilities and losses, the balanced labelled subset,
and the exported classifier."""

import contextlib
import copy
import math

import pytest
import torch
from torch.nn.utils import parametrize

from gan_hub.archs.semi_supervised import FixedScaleNorm
from gan_hub.classifier import Classifier
from gan_hub.config import GeneratorConfig
from gan_hub.data import load_dataset
from gan_hub.hub import Generator, build_discriminator_network, build_generator_network
from gan_hub.io import CheckpointError, atomic_save_safetensors
from gan_hub.objectives import get_objective
from gan_hub.techniques.feature_matching import FeatureMatching
from gan_hub.variants import get_variant
from gan_hub.variants.base import StepContext
from gan_hub.variants.semi_supervised import (
    SemiSupervisedAlgorithm,
    balanced_subset,
    k_plus_one_probabilities,
    real_fake_logit,
    real_probability,
    supervised_loss,
    unsupervised_loss,
)

CTX = StepContext(step=0, max_steps=1)
LN3, LN_HALF = math.log(3.0), math.log(0.5)


def test_k_plus_one_probabilities_sum_to_one_with_the_fake_logit_fixed_at_zero():
    logits = torch.tensor([[0.0, LN3]])  # Z = 1 + 3 = 4
    probs = k_plus_one_probabilities(logits)
    torch.testing.assert_close(probs, torch.tensor([[0.2, 0.6, 0.2]]))  # exp(l_k) / (Z + 1), fake 1 / (Z + 1)
    assert real_probability(logits).item() == pytest.approx(0.8)  # D(x) = Z / (Z + 1)
    assert real_fake_logit(logits).item() == pytest.approx(math.log(4.0))
    many = torch.randn(50, 10) * 5
    torch.testing.assert_close(k_plus_one_probabilities(many).sum(1), torch.ones(50))
    # D(x) = 1 - p(fake | x) = sigmoid(logsumexp l) = Z / (Z + 1), also at extreme logits
    z = many.exp().sum(1)
    torch.testing.assert_close(real_probability(many), 1 - k_plus_one_probabilities(many)[:, -1])
    torch.testing.assert_close(real_probability(many), z / (z + 1))
    extreme = torch.tensor([[100.0, -100.0], [-100.0, -100.0]])
    assert torch.isfinite(k_plus_one_probabilities(extreme)).all()
    assert real_probability(extreme)[0] == 1.0 and real_probability(extreme)[1] < 1e-40


def test_losses_match_hand_computation_and_stay_finite():
    logits = torch.tensor([[0.0, LN3]])
    assert supervised_loss(logits, torch.tensor([1])).item() == pytest.approx(-math.log(3 / 4))
    assert supervised_loss(logits, torch.tensor([0])).item() == pytest.approx(-math.log(1 / 4))
    fake = torch.tensor([[LN_HALF, LN_HALF]])  # Z = 1: D(G(z)) = 1/2
    # -log D(x) - log(1 - D(G(z))) = -log(4/5) - log(1/2)
    assert unsupervised_loss(logits, fake).item() == pytest.approx(-math.log(0.8) - math.log(0.5))
    two = torch.tensor([[0.0, LN3], [LN_HALF, LN_HALF]])  # batch means
    expected = (-math.log(0.8) - math.log(0.5)) / 2 + (-math.log(1 - 0.8) - math.log(1 - 0.5)) / 2
    assert unsupervised_loss(two, two).item() == pytest.approx(expected)
    big = torch.tensor([[60.0, -60.0]])
    assert math.isfinite(unsupervised_loss(big, -big).item()) and math.isfinite(unsupervised_loss(-big, big).item())
    # l = (-100, -100): s = -100 + log 2, so -log D(x) = softplus(-s) ~ 100 - log 2 and -log(1 - D(G(z))) ~ 0
    assert unsupervised_loss(-big.abs() - 40, -big.abs() - 40).item() == pytest.approx(100 - math.log(2), rel=1e-6)


def test_gradient_signs():
    real = torch.tensor([[0.5, -0.2, 1.0]], requires_grad=True)
    fake = torch.tensor([[0.1, 0.3, -0.4]], requires_grad=True)
    unsupervised_loss(real, fake).backward()
    assert (real.grad < 0).all()  # D raises every class logit of unlabelled real data (D(x) up)
    assert (fake.grad > 0).all()  # and lowers those of generated data (D(G(z)) down)
    labelled = torch.tensor([[0.5, -0.2, 1.0]], requires_grad=True)
    supervised_loss(labelled, torch.tensor([1])).backward()
    assert labelled.grad[0, 1] < 0 and labelled.grad[0, 0] > 0 and labelled.grad[0, 2] > 0
    assert labelled.grad.sum().abs() < 1e-6  # the K-way softmax: the common level of the logits is free


def test_balanced_subset_is_balanced_and_set_by_the_seed():
    labels = torch.arange(1000) % 10
    subset = balanced_subset(labels, 100, 10, seed=3)
    assert len(subset) == 100 and len(set(subset.tolist())) == 100
    assert torch.bincount(labels[subset], minlength=10).tolist() == [10] * 10
    assert torch.equal(subset, balanced_subset(labels, 100, 10, seed=3))
    assert not torch.equal(subset, balanced_subset(labels, 100, 10, seed=4))
    with pytest.raises(ValueError, match="multiple of the number of classes"):
        balanced_subset(labels, 95, 10, seed=0)
    with pytest.raises(ValueError, match="class 0 has 100 training examples, fewer than the 150"):
        balanced_subset(labels, 1500, 10, seed=0)


def tiny_setup(num_labelled: int = 8, seed: int = 0, **options):
    torch.manual_seed(0)
    data = load_dataset("synthetic", size=64, image_size=8)  # 4 classes
    cfg = GeneratorConfig(
        variant="semi-supervised",
        arch="semi-supervised-mlp",
        latent_dim=6,
        image_size=8,
        channels=1,
        arch_kwargs={"hidden_dim": 16, "d_classes": list(data.info.class_names)},
    )
    g, d = build_generator_network(cfg), build_discriminator_network(cfg)
    algorithm = SemiSupervisedAlgorithm(get_objective("non-saturating"), num_labelled=num_labelled, **options)
    algorithm.setup(g, d)
    algorithm.bind_data(data, seed)
    return data, cfg, g, d, algorithm


def test_labelled_batches_repeat_the_balanced_subset_to_fill_the_batch():
    data, _, _, _, algorithm = tiny_setup(num_labelled=8)
    assert torch.bincount(data.labels[algorithm.labelled_indices], minlength=4).tolist() == [2] * 4
    images, labels = algorithm.labelled_batch(20)
    assert images.shape == (20, 1, 8, 8) and labels.shape == (20,)
    # each labelled example is a row of the subset, with its own label; every one appears in each pass
    subset = data.images[algorithm.labelled_indices].float().div(127.5).sub(1)
    rows = [int((subset == x).flatten(1).all(1).nonzero()) for x in images]
    assert sorted(rows[:8]) == list(range(8)) and sorted(rows[8:16]) == list(range(8))
    assert labels.tolist() == data.labels[algorithm.labelled_indices][rows].tolist()
    # the draw order is checkpointed: restoring the state repeats the next batch exactly
    state = algorithm.state_dict()
    following = algorithm.labelled_batch(5)
    algorithm.load_state_dict(state)
    assert torch.equal(algorithm.labelled_batch(5)[0], following[0])
    with pytest.raises(RuntimeError, match="bind_data"):
        SemiSupervisedAlgorithm(get_objective("non-saturating")).labelled_batch(4)


def test_discriminator_loss_is_supervised_plus_weighted_unsupervised():
    data, cfg, g, d, algorithm = tiny_setup(unlabelled_weight=0.5)
    real, z = data[0][0][None].repeat(6, 1, 1, 1), torch.randn(6, 6)
    torch.manual_seed(1)
    state = algorithm.state_dict()
    loss, logs = algorithm.discriminator_loss(g, d, real, None, z, CTX)
    assert loss.item() == pytest.approx(logs["d_supervised"] + 0.5 * logs["d_unsupervised"], rel=1e-6)
    assert {"d_real", "d_fake", "d_labelled_acc"} <= set(logs)
    # the same numbers by hand, with the same noise and the same labelled batch
    torch.manual_seed(1)
    algorithm.load_state_dict(state)
    labelled, targets = algorithm.labelled_batch(6)
    with torch.no_grad():
        fake = g(z)
    real_logits, fake_logits = d(real), d(fake)  # D's noise layers draw in the template's order: real, fake, labelled
    by_hand = 0.5 * unsupervised_loss(real_logits, fake_logits) + supervised_loss(d(labelled), targets)
    assert loss.item() == pytest.approx(by_hand.item(), rel=1e-6)
    loss.backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in d.parameters())
    # the step normalises D's weights once for its three calls; the by-hand loss on every call: same gradients
    step_grads = [p.grad.clone() for p in d.parameters()]
    d.zero_grad()
    by_hand.backward()
    for p, grad in zip(d.parameters(), step_grads):
        torch.testing.assert_close(p.grad, grad)


def test_a_step_normalises_the_discriminator_weights_once(monkeypatch):
    data, cfg, g, d, algorithm = tiny_setup(techniques=[FeatureMatching()])  # the variant's generator loss
    calls = []
    original = FixedScaleNorm.forward
    monkeypatch.setattr(FixedScaleNorm, "forward", lambda self, v: calls.append(1) or original(self, v))
    hidden_layers = sum(isinstance(m, FixedScaleNorm) for m in d.modules())
    real, z = data[0][0][None].repeat(6, 1, 1, 1), torch.randn(6, 6)
    algorithm.discriminator_loss(g, d, real, None, z, CTX)[0].backward()
    assert len(calls) == hidden_layers  # not once per call of D (it runs three times)

    def generator_grads() -> list[torch.Tensor]:
        g.zero_grad()
        torch.manual_seed(2)  # the same noise in D's layers
        algorithm.generator_loss(g, d.requires_grad_(False), z, None, real, CTX)[0].backward()
        return [p.grad.clone() for p in g.parameters()]

    calls.clear()
    once = generator_grads()
    assert len(calls) == hidden_layers  # feature matching runs D twice
    with monkeypatch.context() as m:
        m.setattr(parametrize, "cached", contextlib.nullcontext)
        calls.clear()
        every_call = generator_grads()
        assert len(calls) == 2 * hidden_layers
    for a, b in zip(once, every_call):
        torch.testing.assert_close(a, b)

    def discriminator_grads() -> list[torch.Tensor]:
        d.requires_grad_(True).zero_grad()
        torch.manual_seed(3)  # the same noise in D's layers
        state = algorithm._rng.get_state()  # the same labelled batch
        algorithm.discriminator_loss(g, d, real, None, z, CTX)[0].backward()
        algorithm._rng.set_state(state)
        return [p.grad.clone() for p in d.parameters()]

    once = discriminator_grads()
    with monkeypatch.context() as m:
        m.setattr(parametrize, "cached", contextlib.nullcontext)
        every_call = discriminator_grads()
    for a, b in zip(once, every_call):  # D's own step: the same gradients too
        torch.testing.assert_close(a, b)


def test_exported_classifier_is_the_running_average_of_the_weights():
    data, cfg, g, d, algorithm = tiny_setup(average_decay=0.5)
    optimizer = torch.optim.SGD(d.parameters(), lr=0.1)
    history = []
    for step in range(4):
        loss, _ = algorithm.discriminator_loss(g, d, data[0][0][None].repeat(4, 1, 1, 1), None, torch.randn(4, 6), CTX)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        algorithm.after_d_step(d, CTX)
        history.append({k: v.detach().clone() for k, v in d.named_parameters()})
    # the first step's weights start it; then the kept share is min(0.5, (1 + n) / (10 + n)) for n = 1, 2, 3
    name = "head.1.bias"
    expected = history[0][name]
    for weights, rate in zip(history[1:], (2 / 11, 3 / 12, 4 / 13)):
        expected = rate * expected + (1 - rate) * weights[name]
    exported = algorithm.discriminator_export(d)
    torch.testing.assert_close(exported[name], expected)
    assert set(exported) == set(d.state_dict()) and not torch.equal(exported[name], d.state_dict()[name])
    # the average is checkpointed with the algorithm's state
    restored = SemiSupervisedAlgorithm(get_objective("non-saturating"), num_labelled=8)
    restored.load_state_dict(algorithm.state_dict())
    assert restored.averaged_steps == 4 and torch.equal(restored.discriminator_export(d)[name], exported[name])
    # average_decay 0: the last weights
    plain = SemiSupervisedAlgorithm(get_objective("non-saturating"), average_decay=0)
    plain.after_d_step(d, CTX)
    assert all(torch.equal(v, d.state_dict()[k]) for k, v in plain.discriminator_export(d).items())


def test_networks_follow_the_paper():
    cfg = GeneratorConfig(
        variant="semi-supervised",
        arch="semi-supervised-mlp",
        latent_dim=100,
        image_size=28,
        channels=1,
        arch_kwargs={"d_classes": [str(k) for k in range(10)]},
    )
    d, g = build_discriminator_network(cfg), build_generator_network(cfg)
    linears = [m for m in d.modules() if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [
        (784, 1000),
        (1000, 500),
        (500, 250),
        (250, 250),
        (250, 250),
        (250, 10),
    ]
    assert all(parametrize.is_parametrized(m, "weight") for m in linears)  # weight normalisation
    trained_scales = [name for name, _ in d.named_parameters() if name.endswith("original0")]
    assert trained_scales == ["head.1.parametrizations.weight.original0"]  # hidden layers' scales are fixed buffers
    fixed = [name for name, _ in d.named_buffers() if name.endswith("scale")]
    assert len(fixed) == 5
    for m in linears:  # every row of W has the norm of its scale
        torch.testing.assert_close(
            m.weight.norm(dim=1),
            m.parametrizations.weight.original0.flatten()
            if hasattr(m.parametrizations.weight, "original0")
            else m.parametrizations.weight[0].scale.flatten(),
        )
    d.data_dependent_init(torch.rand(200, 1, 28, 28) * 2 - 1)  # layer outputs start with mean 0, variance 1
    d.eval()
    with torch.no_grad():
        pre = d.body[:4](torch.rand(200, 1, 28, 28) * 2 - 1)  # the first linear layer's outputs
    assert pre.mean(0).abs().mean() < 0.25 and 0.6 < pre.std(0).mean() < 1.2
    d.train()
    noise = [m.std for m in d.modules() if type(m).__name__ == "GaussianNoise"]
    assert noise == [0.3, 0.5, 0.5, 0.5, 0.5, 0.5]
    x = torch.rand(4, 1, 28, 28) * 2 - 1
    assert d.body(x).shape == (4, 250)  # the features that feature matching compares
    assert not torch.equal(d(x), d(x))  # noise while training
    d.eval()
    assert torch.equal(d(x), d(x)) and d(x).shape == (4, 10)
    g_linears = [(m.in_features, m.out_features) for m in g.modules() if isinstance(m, torch.nn.Linear)]
    assert g_linears == [(100, 500), (500, 500), (500, 784)]
    out = g(torch.randn(3, 100))
    assert out.shape == (3, 1, 28, 28) and out.min() >= -1 and out.max() <= 1
    with pytest.raises(ValueError, match="needs the dataset's classes"):
        build_discriminator_network(GeneratorConfig(variant="semi-supervised", arch="semi-supervised-mlp"))


def test_options_are_checked():
    spec = get_variant("semi-supervised")
    objective = get_objective("non-saturating")
    assert spec.build_algorithm(objective, None, {"num_labelled": 20}).num_labelled == 20
    for bad in (0, -10, 2.5, True, "100"):
        with pytest.raises(ValueError, match="num_labelled must be a positive integer"):
            spec.build_algorithm(objective, None, {"num_labelled": bad})
    with pytest.raises(ValueError, match="unlabelled_weight must be a non-negative number"):
        spec.build_algorithm(objective, None, {"unlabelled_weight": -1})
    for bad in (1.0, -0.1, True):
        with pytest.raises(ValueError, match=r"average_decay must be a number in \[0, 1\)"):
            spec.build_algorithm(objective, None, {"average_decay": bad})
    with pytest.raises(
        ValueError,
        match=r"has no option\(s\) \['labels'\]; its options are: num_labelled, "
        "unlabelled_weight, average_decay",
    ):
        spec.build_algorithm(objective, None, {"labels": 100})


def test_trained_classifier_is_exported_and_round_trips(tmp_path):
    from train.config import TrainConfig
    from train.trainer import Trainer

    cfg = TrainConfig(
        variant="semi-supervised",
        dataset="synthetic",
        max_steps=3,
        batch_size=8,
        eval_samples=0,
        eval_samples_during_training=0,
        sample_every=1000,
        eval_every=1000,
        checkpoint_every=1000,
        log_every=1,
        output_dir=str(tmp_path / "run"),
        arch_kwargs={"hidden_dim": 32},
        variant_options={"num_labelled": 12},
    )
    trainer = Trainer(cfg)
    assert len(trainer.algorithm.labelled_indices) == 12  # the config's value reached the algorithm
    model_dir = trainer.train()
    assert "d_supervised" in trainer.last_logs
    test = load_dataset("synthetic", train=False)
    clf = Classifier.from_pretrained(model_dir)
    assert clf.class_names == ["cell 0", "cell 1", "cell 2", "cell 3"]
    trained = trainer.accelerator.unwrap_model(trainer.D)
    averaged = copy.deepcopy(trained).eval()
    averaged.load_state_dict(trainer.algorithm.discriminator_export(trained))
    with torch.no_grad():
        expected = averaged(test.images.float().div(127.5).sub(1))
    torch.testing.assert_close(clf.logits(test.images), expected, rtol=0, atol=0)  # the average of D's weights
    predictions = clf.predict(test.images)
    assert predictions.dtype == torch.int64 and predictions.shape == (len(test),)
    from gan_hub.metrics.variant_scores import semi_supervised_test_errors

    errors = semi_supervised_test_errors(model_dir, test.images, test.labels)  # the zoo card's "test errors"
    assert errors["value"] == int((predictions != test.labels).sum()) and errors["num_samples"] == len(test)
    torch.testing.assert_close(clf.predict_proba(test.images).sum(1), torch.ones(len(test)))
    torch.testing.assert_close(clf.k_plus_one_probabilities(test.images[:5]).sum(1), torch.ones(5))
    # save -> load -> identical predictions; the generator of the same export loads as usual
    reloaded = Classifier.from_pretrained(clf.save_pretrained(tmp_path / "copy"))
    assert torch.equal(reloaded.logits(test.images), clf.logits(test.images))
    assert Generator.from_pretrained(model_dir).generate(4, seed=0).shape == (4, 1, 16, 16)
    with pytest.raises(ValueError, match=r"expected images \[N, 1, 16, 16\]"):
        clf.predict(torch.zeros(2, 1, 28, 28, dtype=torch.uint8))
    # strict loading: a missing tensor is named
    state = {k: v for k, v in reloaded.net.state_dict().items() if not k.startswith("head.")}
    atomic_save_safetensors(tmp_path / "copy" / "discriminator.safetensors", state)
    with pytest.raises(CheckpointError, match="missing key"):
        Classifier.from_pretrained(tmp_path / "copy")


def test_models_without_a_classifier_are_refused():
    cfg = GeneratorConfig(variant="dcgan", arch="dcgan", image_size=16, arch_kwargs={"base_channels": 4})
    with pytest.raises(ValueError, match="dcgan model has no classifier"):
        Classifier(cfg)


def test_generator_matches_mean_features_averaged_over_features_as_the_authors_code():
    from gan_hub.techniques import configure, merge_switches

    spec = get_variant("semi-supervised")
    setup = configure(merge_switches(spec.techniques, None), get_objective(spec.objective))
    (technique,) = setup.techniques
    assert isinstance(technique, FeatureMatching) and technique.reduction == "mean"
    # a run (or preset) that says `feature_matching: true` keeps the paper's summed loss
    (summed,) = configure(
        merge_switches(spec.techniques, {"feature_matching": True}), get_objective("non-saturating")
    ).techniques
    assert summed.reduction == "sum"
