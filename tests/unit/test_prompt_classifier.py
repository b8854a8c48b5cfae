"""The classifier heads' arithmetic and file formats, on a fake embedder (no model load)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from adapters.ml.ensemble import PromptClassifier


class FakeEmbedder:
    """Two-dimensional 'embeddings': one window per sentence, [1, 0] for sentences that mention 'attack'."""

    dimension = 2
    precision = "fp32"

    def __init__(self) -> None:
        self.calls: list[list[str]] = []
        self.attention: list[Any] = []

    def embed_windows(self, texts: list[str], layers: Any = (6,), attention: Any = None) -> list[np.ndarray]:
        """With ``attention`` (inputs + 1 rows, one column per pooling), each window also gets, per column, a pooled
        'vector': [column number, 1] for sentences that mention 'attack', else [column number, 0]."""
        self.calls.append(list(texts))
        self.attention.append(attention)
        columns = 0 if attention is None else attention.shape[1]
        return [
            np.array(
                [
                    ([1.0, 0.0] if "attack" in s else [0.0, 1.0])
                    + [v for c in range(columns) for v in (float(c), float("attack" in s))]
                    for s in t.split(".")
                    if s.strip()
                ]
            )
            for t in texts
        ]


POINTS = {"high_recall": 0.5, "balanced": 0.7, "high_precision": 0.9}


def test_format_2_heads_score_the_most_suspicious_window(tmp_path: Path) -> None:
    spec = {
        "format": 2,
        "layers": [6],
        "dimension": 2,
        "heads": {
            "injection": {"kind": "logistic", "weights": [4.0, -4.0], "bias": 0.0, "thresholds": POINTS},
            "harmful": {
                "kind": "mlp",
                "w1": [[1.0, 0.0]],
                "b1": [0.0],
                "w2": [-6.0],
                "b2": 3.0,
                "thresholds": POINTS,
            },
        },
    }
    path = tmp_path / "head.json"
    path.write_text(json.dumps(spec))
    embedder = FakeEmbedder()
    classifier = PromptClassifier(embedder, path)  # type: ignore[arg-type]
    calm, mixed = classifier.scores(["A calm sentence. Another one.", "A calm sentence. Then an attack."])
    assert calm["injection"] == pytest.approx(1 / (1 + np.exp(4.0)))
    assert mixed["injection"] == pytest.approx(1 / (1 + np.exp(-4.0)))  # the max over windows, not the mean
    assert calm["harmful"] == pytest.approx(1 / (1 + np.exp(-3.0)))
    classifier.scores(["A calm sentence. Another one."])
    assert len(embedder.calls) == 1  # repeated texts come from the cache
    assert classifier.thresholds["harmful"]["balanced"] == 0.7


def test_format_1_head_and_mismatched_dimensions(tmp_path: Path) -> None:
    path = tmp_path / "old.json"
    path.write_text(json.dumps({"dimension": 2, "weights": [1.0, 1.0], "bias": 0.0, "thresholds": POINTS}))
    classifier = PromptClassifier(FakeEmbedder(), path)  # type: ignore[arg-type]
    assert set(classifier.scores(["x."])[0]) == {"injection"}
    path.write_text(json.dumps({"dimension": 3, "weights": [1.0] * 3, "bias": 0.0, "thresholds": POINTS}))
    with pytest.raises(ValueError, match="does not match"):
        PromptClassifier(FakeEmbedder(), path)  # type: ignore[arg-type]


def test_heads_are_served_only_by_the_encoder_precision_they_were_trained_on(tmp_path: Path) -> None:
    path = tmp_path / "int8.json"
    spec = {"dimension": 2, "weights": [1.0, 1.0], "bias": 0.0, "thresholds": POINTS, "encoder_precision": "int8"}
    path.write_text(json.dumps(spec))
    with pytest.raises(ValueError, match="trained on the int8 encoder"):
        PromptClassifier(FakeEmbedder(), path)  # type: ignore[arg-type]
    int8 = FakeEmbedder()
    int8.precision = "int8"
    assert set(PromptClassifier(int8, path).scores(["x."])[0]) == {"injection"}  # type: ignore[arg-type]


def test_attention_heads_send_their_queries_together_and_each_reads_its_own_poolings(tmp_path: Path) -> None:
    """Two attention heads (1 and 2 poolings) and a head over the means: one embedder call with all three query
    columns; each attention head reads the means and its own pooled columns, the means head only the means."""
    one_pool = {
        "kind": "attention_mlp",
        "attention": [[0.5, 0.5, 0.0]],  # one pooling: weights for the 2 inputs, then the bias
        # means (2) + pooling (2): reads only the pooled 'attack' flag of its own column (column 0)
        "w1": [[0.0, 0.0, 0.0, 8.0]],
        "b1": [0.0],
        "w2": [1.0],
        "b2": -4.0,
        "thresholds": POINTS,
    }
    two_pools = {
        **one_pool,
        "attention": [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]],
        # means (2) + two poolings (2 each): reads the column numbers of its poolings (1 and 2: its own columns)
        "w1": [[0.0, 0.0, 1.0, 0.0, 1.0, 0.0]],
        "b1": [0.0],
        "w2": [1.0],
        "b2": 0.0,
    }
    means = {"kind": "logistic", "weights": [4.0, -4.0], "bias": 0.0, "thresholds": POINTS}
    spec = {"format": 2, "layers": [6], "dimension": 2, "heads": {"injection": one_pool, "pair": two_pools, "m": means}}
    path = tmp_path / "attention.json"
    path.write_text(json.dumps(spec))
    embedder = FakeEmbedder()
    classifier = PromptClassifier(embedder, path)  # type: ignore[arg-type]
    calm, attack = classifier.scores(["A calm sentence.", "An attack."])
    assert len(embedder.calls) == 1 and embedder.attention[0].shape == (3, 3)
    assert calm["injection"] == pytest.approx(1 / (1 + np.exp(4.0)))
    assert attack["injection"] == pytest.approx(1 / (1 + np.exp(-4.0)))
    assert calm["pair"] == pytest.approx(1 / (1 + np.exp(-3.0)))  # columns 1 and 2, not 0 and 1
    assert calm["m"] == pytest.approx(1 / (1 + np.exp(4.0)))


def test_attention_queries_must_fit_the_features(tmp_path: Path) -> None:
    head = {"kind": "attention_mlp", "attention": [[1.0, 0.0]], "w1": [[0.0] * 4], "b1": [0.0], "w2": [1.0], "b2": 0.0}
    path = tmp_path / "bad.json"
    path.write_text(
        json.dumps({"format": 2, "layers": [6], "dimension": 2, "heads": {"injection": {**head, "thresholds": POINTS}}})
    )
    with pytest.raises(ValueError, match="attention queries of 1 inputs"):
        PromptClassifier(FakeEmbedder(), path)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "head",
    [
        # one pooling: means (2) + pooled (2) = 4 inputs, but the MLP takes 2
        {"kind": "attention_mlp", "attention": [[1.0, 0.0, 0.0]], "w1": [[0.0] * 2], "b1": [0.0], "w2": [1.0]},
        # a head over the means (2 wide) with 3 weights
        {"kind": "mlp", "w1": [[0.0] * 3], "b1": [0.0], "w2": [1.0]},
        {"kind": "logistic", "weights": [1.0, 0.0, 0.0], "bias": 0.0},
    ],
)
def test_a_head_whose_inputs_do_not_fit_its_features_refuses_to_load(tmp_path: Path, head: dict[str, Any]) -> None:
    path = tmp_path / "bad.json"
    spec = {"injection": {**head, "b2": 0.0, "thresholds": POINTS}}
    path.write_text(json.dumps({"format": 2, "layers": [6], "dimension": 2, "heads": spec}))
    with pytest.raises(ValueError, match="inputs, but its features are"):
        PromptClassifier(FakeEmbedder(), path)  # type: ignore[arg-type]


@pytest.mark.parametrize("rule_veto", [{"below": "0.05"}, {"below": 1.5}, {"line": 0.05}, 0.05])
def test_a_malformed_rule_veto_line_refuses_to_load(tmp_path: Path, rule_veto: Any) -> None:
    """A custom head file whose veto line is not a score would otherwise overrule every rule hit, or none."""
    head = {"kind": "mlp", "w1": [[0.0] * 2], "b1": [0.0], "w2": [1.0], "b2": 0.0, "thresholds": POINTS}
    path = tmp_path / "bad.json"
    spec = {"injection": {**head, "rule_veto": rule_veto}}
    path.write_text(json.dumps({"format": 2, "layers": [6], "dimension": 2, "heads": spec}))
    with pytest.raises(ValueError, match=r"rule_veto\.below must be a number from 0 to 1"):
        PromptClassifier(FakeEmbedder(), path)  # type: ignore[arg-type]
    path.write_text(json.dumps({"format": 2, "layers": [6], "dimension": 2, "heads": {"injection": head}}))
    assert PromptClassifier(FakeEmbedder(), path).rule_veto is None  # type: ignore[arg-type]
