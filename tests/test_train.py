"""cnnlab.train: fit/evaluate/predict, divergence detection, atomic checkpoints and exact resume."""
import os

import numpy as np
import pytest

import cnnlab
import cnnlab.nn as nn
import cnnlab.optim as optim
from cnnlab.data import DataLoader, TensorDataset
from cnnlab.train import (StopTraining, TrainingDiverged, evaluate, fit, load_checkpoint, predict,
                          save_checkpoint)


def _data(n=96, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 1, 6, 6)).astype(np.float32)
    y = (x[:, 0, :3].sum(axis=(1, 2)) > 0).astype(np.int64) + 2 * (x[:, 0, 3:].sum(axis=(1, 2)) > 0)
    return TensorDataset(cnnlab.tensor(x), cnnlab.tensor(y))


def _model():
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Dropout(0.2), nn.Flatten(), nn.Linear(144, 4))


def _setup(seed=0):
    cnnlab.manual_seed(seed)
    model = _model()
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    sched = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    loader = DataLoader(_data(), batch_size=16, shuffle=True, generator=cnnlab.Generator().manual_seed(seed))
    return model, opt, sched, loader


def test_fit_learns_and_records_history():
    model, opt, sched, loader = _setup()
    hist = fit(model, loader, nn.CrossEntropyLoss(), opt, epochs=6, val_loader=DataLoader(_data(seed=1), 32),
               scheduler=sched)
    assert hist["epoch"] == [1, 2, 3, 4, 5, 6]
    assert hist["train_loss"][-1] < 0.6 * hist["train_loss"][0]
    assert hist["lr"] == [0.1, 0.1, 0.05, 0.05, 0.025, 0.025]
    assert all(0 <= a <= 1 for a in hist["val_acc"]) and hist["val_acc"][-1] > 0.45  # 4 classes: chance is 0.25


def test_resume_reaches_the_same_result(tmp_path):
    ckpt = str(tmp_path / "run.pth")
    model_a, opt_a, sched_a, loader_a = _setup()
    hist_a = fit(model_a, loader_a, nn.CrossEntropyLoss(), opt_a, epochs=4, scheduler=sched_a)

    model_b, opt_b, sched_b, loader_b = _setup()
    fit(model_b, loader_b, nn.CrossEntropyLoss(), opt_b, epochs=2, scheduler=sched_b, checkpoint=ckpt)
    cnnlab.manual_seed(12345)  # the interruption: whatever ran in between must not matter
    model_c, opt_c, sched_c, loader_c = _setup(seed=99)
    hist_c = fit(model_c, loader_c, nn.CrossEntropyLoss(), opt_c, epochs=4, scheduler=sched_c, checkpoint=ckpt,
                 resume=True)
    assert hist_c["epoch"] == [1, 2, 3, 4]
    np.testing.assert_array_equal(hist_c["train_loss"], hist_a["train_loss"])
    for (k, a), (_, c) in zip(model_a.state_dict().items(), model_c.state_dict().items()):
        np.testing.assert_array_equal(a.numpy(), c.numpy(), err_msg=k)


def test_interrupted_save_keeps_the_last_good_checkpoint(tmp_path, monkeypatch):
    ckpt = str(tmp_path / "run.pth")
    model, opt, sched, loader = _setup()
    save_checkpoint(ckpt, model, opt, sched, epoch=1)
    import cnnlab.io.torch_format as tf

    def crash(*a, **k):
        raise KeyboardInterrupt("killed during the save")

    monkeypatch.setattr(tf._TorchPickler, "dump", crash)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(ckpt, model, opt, sched, epoch=2)
    monkeypatch.undo()
    assert load_checkpoint(ckpt, _model())["epoch"] == 1
    assert os.listdir(tmp_path) == ["run.pth"]


def test_nan_loss_stops_with_epoch_and_batch():
    model, opt, _, loader = _setup()
    calls = {"n": 0}

    def loss_fn(out, y):
        calls["n"] += 1
        loss = nn.functional.cross_entropy(out, y)
        return loss * float("nan") if calls["n"] == 8 else loss

    with pytest.raises(TrainingDiverged, match=r"loss became nan at epoch 2, batch 2"):
        fit(model, loader, loss_fn, opt, epochs=3)


def test_callbacks_can_stop_training():
    model, opt, _, loader = _setup()

    def stop_after_two(epoch, logs):
        if epoch == 2:
            raise StopTraining

    assert fit(model, loader, nn.CrossEntropyLoss(), opt, epochs=5, callbacks=[stop_after_two])["epoch"] == [1, 2]


class _Fixed(nn.Module):
    def __init__(self, logits):
        super().__init__()
        self.logits = cnnlab.tensor(logits)

    def forward(self, x):
        return self.logits[: x.shape[0]]


def test_evaluate_confusion_and_per_class():
    logits = np.array([[5, 0, 0], [0, 5, 0], [0, 5, 0], [0, 0, 5]], np.float32)
    y = cnnlab.tensor([0, 1, 2, 2])
    res = evaluate(_Fixed(logits), [(cnnlab.zeros(4, 1), y)], nn.CrossEntropyLoss())
    assert res["accuracy"] == 0.75 and res["count"] == 4
    assert res["confusion_matrix"].tolist() == [[1, 0, 0], [0, 1, 0], [0, 1, 1]]
    assert res["per_class_accuracy"] == [1.0, 1.0, 0.5]


def test_predict_topk():
    logits = np.log(np.array([[0.1, 0.7, 0.2], [0.5, 0.2, 0.3]], np.float32))
    probs, top, top_p = predict(_Fixed(logits), cnnlab.zeros(2, 1), k=2)
    np.testing.assert_allclose(probs.sum(1), 1, rtol=1e-6)
    assert top.tolist() == [[1, 2], [0, 2]]
    np.testing.assert_allclose(top_p, [[0.7, 0.2], [0.5, 0.3]], rtol=1e-5)
    with pytest.raises(ValueError, match="k must be between 1 and the number of classes. Got k=4, classes=3"):
        predict(_Fixed(logits), cnnlab.zeros(2, 1), k=4)


@pytest.mark.parametrize("epochs, error, message", [
    (0, ValueError, "fit: epochs must be at least 1 .*Got epochs=0."),
    (-1, ValueError, "fit: epochs must be at least 1 .*Got epochs=-1."),
    (2.5, TypeError, r"fit: epochs must be an int. Got epochs=2.5 \(float\)"),
    ("3", TypeError, r"fit: epochs must be an int. Got epochs='3' \(str\)"),
    (True, TypeError, r"fit: epochs must be an int. Got epochs=True \(bool\)"),
])
def test_fit_refuses_epochs_that_are_not_a_positive_int(epochs, error, message):
    model, opt, _, loader = _setup()
    with pytest.raises(error, match=message):
        fit(model, loader, nn.CrossEntropyLoss(), opt, epochs=epochs)


# ---- a damaged or edited checkpoint: the field named before anything is used ----------------------------------
def _saved_run(tmp_path):
    ckpt = str(tmp_path / "run.pth")
    model, opt, sched, loader = _setup()
    fit(model, loader, nn.CrossEntropyLoss(), opt, epochs=1, scheduler=sched, checkpoint=ckpt)
    return ckpt


def _damage(entry):
    """Each damage: (field named in the message, a change to the checkpoint dict)."""
    return {
        "epoch": lambda c: c.__setitem__("epoch", "two"),
        "rng": lambda c: c.pop("rng"),
        "rng.seed": lambda c: c.__setitem__("rng", {"seed": 0}),
        "rng.bit_generator": lambda c: c["rng"].__setitem__("bit_generator", [1, 2, 3]),
        "rng.state": lambda c: c["rng"]["bit_generator"].__setitem__("state", "zero"),
        "loader_rng": lambda c: c.__setitem__("loader_rng", [{"seed": 1}]),
        "history": lambda c: c.__setitem__("history", [1.0]),
        "optimizer.momentum_buffer": lambda c: c["optimizer"]["state"][0].__setitem__(
            "momentum_buffer", cnnlab.zeros(3)),
        "optimizer.lr": lambda c: c["optimizer"]["param_groups"][0].__setitem__("lr", "fast"),
        "optimizer.groups": lambda c: c["optimizer"].__setitem__("param_groups", []),
        "scheduler": lambda c: c.__setitem__("scheduler", {"last_epoch": 1}),
        "scheduler.last_epoch": lambda c: c["scheduler"].__setitem__("last_epoch", "1"),
    }[entry]


@pytest.mark.parametrize("entry, words", [
    ("epoch", "the field 'epoch' must be an int >= 0. Got epoch='two' (str)"),
    ("rng", "the field 'rng' must be present"),
    ("rng.seed", "the field 'rng' must be a random-generator state"),
    ("rng.bit_generator", "the field 'rng' must be a random-generator state (a dict with 'seed' and 'bit_generator') "
                          "NumPy accepts"),
    ("rng.state", "the field 'rng' must be a random-generator state"),
    ("loader_rng", "the field 'loader_rng[0]' must be a random-generator state"),
    ("history", "the field 'history' must be a dict of lists"),
    ("optimizer.momentum_buffer", "the field 'optimizer.state[0].momentum_buffer' must be a tensor of shape (4, 1, 3, "
                                  "3) (its parameter's). Got optimizer.state[0].momentum_buffer=a Tensor of shape "
                                  "(3,)"),
    ("optimizer.lr", "the field 'optimizer.param_groups[0].lr' must be a number. Got optimizer.param_groups[0].lr="
                     "'fast' (str)"),
    ("optimizer.groups", "the field 'optimizer.param_groups' must be a list of 1 group(s)"),
    ("scheduler", "the field 'scheduler' must be the state of a StepLR"),
    ("scheduler.last_epoch", "the field 'scheduler.last_epoch' must be an int. Got scheduler.last_epoch='1' (str)"),
])
def test_a_damaged_checkpoint_names_the_field_before_anything_is_restored(tmp_path, entry, words):
    import cnnlab.io as cio
    from cnnlab.errors import CheckpointError
    ckpt = _saved_run(tmp_path)
    data = cio.load(ckpt)
    _damage(entry)(data)
    cio.save(data, ckpt)
    model, opt, sched, loader = _setup(seed=5)
    before = [p.detach().numpy().copy() for p in model.parameters()]
    with pytest.raises(CheckpointError) as info:
        fit(model, loader, nn.CrossEntropyLoss(), opt, epochs=3, scheduler=sched, checkpoint=ckpt, resume=True)
    assert words in str(info.value) and str(info.value).endswith(f"in {ckpt}."), str(info.value)
    assert isinstance(info.value, ValueError)
    for b, p in zip(before, model.parameters()):  # nothing restored halfway
        np.testing.assert_array_equal(b, p.detach().numpy())


def test_first_batch_names_the_layer_that_does_not_fit():
    # A student's classic mistake (in_features for a 12x12 input computed for another size) fails in the first
    # batch naming the layer by its path and the flattened size, not with a bare matmul shape error.
    from cnnlab.errors import ShapeError
    net = nn.Sequential(nn.Conv2d(1, 6, 5), nn.Flatten(), nn.Linear(100, 10))
    data = TensorDataset(cnnlab.randn(8, 1, 12, 12), cnnlab.zeros(8, dtype=cnnlab.int64))
    with pytest.raises(ShapeError, match=r"Linear '2' expects in_features=100 .*384"):
        fit(net, DataLoader(data, batch_size=4), nn.CrossEntropyLoss(),
            cnnlab.optim.SGD(net.parameters(), lr=0.1), epochs=1, progress=False)
