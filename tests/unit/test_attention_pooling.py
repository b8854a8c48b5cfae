"""The attention head is trained on packed tokens (ml/train_detectors.py) and served on padded batches
(adapters/ml/embedder.py attention_pool): the two must compute the same features, or the served head is not the
trained one."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from adapters.ml.embedder import attention_pool  # noqa: E402
from ml.train_detectors import LAYERS, _attention_model, _PackedWindows, score_attention  # noqa: E402


def _windows() -> list[list[np.ndarray]]:
    generator = np.random.default_rng(7)
    width = 384 * len(LAYERS)
    # three texts: one window of 5 tokens; two windows of 12 and 3 tokens; one window of 30 tokens
    return [
        [generator.normal(size=(n, width)).astype(np.float16) for n in lengths] for lengths in ((5,), (12, 3), (30,))
    ]


def test_training_features_are_the_served_features() -> None:
    torch.manual_seed(0)
    windows = _windows()
    model = _attention_model(384 * len(LAYERS), 2).eval()
    packed = _PackedWindows(windows)
    with torch.no_grad():
        trained = model.features(*packed.batch(torch.arange(4))).numpy()
    flat = [w for text in windows for w in text]
    padded = torch.zeros(len(flat), 30, 384 * len(LAYERS))
    mask = torch.zeros(len(flat), 30, dtype=torch.bool)
    for row, tokens in enumerate(flat):
        padded[row, : len(tokens)] = torch.from_numpy(tokens.astype(np.float32))
        mask[row, : len(tokens)] = True
    queries = torch.cat([model.query.weight.detach().T, model.query.bias.detach()[None, :]])
    states = [padded[..., i * 384 : (i + 1) * 384] for i in range(len(LAYERS))]
    weights = mask.unsqueeze(-1).float()
    means = [torch.nn.functional.normalize((s * weights).sum(1) / weights.sum(1), dim=-1) for s in states]
    with torch.no_grad():
        served = torch.cat(means + attention_pool(torch, states, mask, queries), dim=-1).numpy()
    assert served.shape == trained.shape == (4, 384 * len(LAYERS) + 2 * 384)
    np.testing.assert_allclose(served, trained, atol=1e-5)


def test_a_text_scores_its_most_suspicious_window_as_the_model_does() -> None:
    torch.manual_seed(1)
    windows = _windows()
    model = _attention_model(384 * len(LAYERS), 2).eval()
    first, second = model.mlp[1], model.mlp[3]
    head = {
        "attention": torch.cat([model.query.weight.detach().T, model.query.bias.detach()[None, :]]).T.tolist(),
        "w1": first.weight.detach().tolist(),
        "b1": first.bias.detach().tolist(),
        "w2": second.weight.detach()[0].tolist(),
        "b2": float(second.bias.detach()[0]),
    }
    with torch.no_grad():
        per_window = torch.sigmoid(model(*_PackedWindows(windows).batch(torch.arange(4)))).numpy()
    expected = [per_window[0], max(per_window[1], per_window[2]), per_window[3]]
    np.testing.assert_allclose(score_attention(head, windows), expected, atol=1e-5)
