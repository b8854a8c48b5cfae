"""`just bench family_holdout` builds each family's held-out head file from the folds of one full training
(ml/train_detectors.py held_out_head_file) instead of retraining per family. That is only honest if the fold that
held a source out trained exactly the head a retrain without the source ships, and if the thresholds never see it."""

from __future__ import annotations

import json
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("torch")

import ml.train_detectors as training


class _Cache:
    """Token states by text: a fixed random matrix per text, with a planted direction in attacks."""

    def __init__(self) -> None:
        self.states: dict[str, list[np.ndarray]] = {}

    def windows(self, texts: list[str]) -> list[list[np.ndarray]]:
        for text in texts:
            if text not in self.states:
                generator = np.random.default_rng(zlib.crc32(text.encode()))
                tokens = generator.normal(size=(4 + len(text) % 5, 384 * len(training.LAYERS))).astype(np.float32)
                if "attack" in text:
                    tokens[:, :8] += 2.0
                self.states[text] = [tokens.astype(np.float16)]
        return [self.states[t] for t in texts]


def _rows() -> list[dict[str, Any]]:
    rows = []
    for source in ("alpha", "beta", "family_gamma", "family_delta"):
        for i in range(12):
            for text, label, task in (
                (f"{source} benign text {i}", "benign", "injection"),
                (f"{source} attack text {i}", "malicious", "injection"),
                (f"{source} harmful attack {i}", "malicious", "harmful"),
            ):
                rows.append({"text": text, "label": label, "source": source, "task": task})
    return rows


@pytest.fixture
def small_training(monkeypatch: pytest.MonkeyPatch) -> Any:
    rows = _rows()
    monkeypatch.setattr(training, "training_rows", lambda: list(rows))
    monkeypatch.setattr(training, "EPOCHS", 2)
    # both kinds of head, whatever the shipped choice is
    monkeypatch.setattr(training, "HEAD_KIND", {"injection": "attention_mlp", "harmful": "mlp"})
    return rows


def test_a_fold_head_is_the_head_a_retrain_without_its_source_ships(small_training: Any, tmp_path: Path) -> None:
    cache = _Cache()
    for task in training.HEAD_KIND:
        training.train_task(task, small_training, cache, folds=tmp_path)  # type: ignore[arg-type]
    held_out = training.held_out_head_file("family_gamma", folds=tmp_path)
    without = [r for r in small_training if r["source"] != "family_gamma"]
    for task in training.HEAD_KIND:
        retrained = training.train_task(task, without, cache)  # type: ignore[arg-type]
        for key in ("kind", "w1", "b1", "w2", "b2"):
            assert held_out["heads"][task][key] == retrained[key], (task, key)
    assert "family_gamma" not in held_out["trained_on"]
    assert held_out["heads"]["injection"]["rows"] == len(training.task_rows("injection", without))


def test_held_out_thresholds_never_see_the_source(small_training: Any, tmp_path: Path) -> None:
    cache = _Cache()
    for task in training.HEAD_KIND:
        training.train_task(task, small_training, cache, folds=tmp_path)  # type: ignore[arg-type]
    rows = training.task_rows("injection", small_training)
    kept = np.load(tmp_path / "injection_unseen.npz")
    outside = np.array([r["source"] != "family_gamma" for r in rows])
    labels = np.array([r["label"] == "malicious" for r in rows])
    # the source's benign prompts scored above every other benign prompt: a threshold that saw them would rise
    unseen = kept["unseen"].copy()
    unseen[~outside & ~labels] = 0.9999
    np.savez(tmp_path / "injection_unseen.npz", unseen=unseen, keys=kept["keys"])
    expected = training.operating_thresholds(unseen[outside], labels[outside])
    held_out = training.held_out_head_file("family_gamma", folds=tmp_path)
    assert held_out["heads"]["injection"]["thresholds"] == expected
    assert training.operating_thresholds(unseen, labels) != expected


def test_folds_of_other_training_data_refuse(small_training: Any, tmp_path: Path) -> None:
    cache = _Cache()
    for task in training.HEAD_KIND:
        training.train_task(task, small_training, cache, folds=tmp_path)  # type: ignore[arg-type]
    small_training.append({"text": "a new prompt", "label": "benign", "source": "alpha", "task": "injection"})
    with pytest.raises(ValueError, match="rerun"):
        training.held_out_head_file("family_gamma", folds=tmp_path)


def test_the_head_file_of_a_fold_loads_in_the_proxy_format(small_training: Any, tmp_path: Path) -> None:
    cache = _Cache()
    for task in training.HEAD_KIND:
        training.train_task(task, small_training, cache, folds=tmp_path)  # type: ignore[arg-type]
    held_out = json.loads(json.dumps(training.held_out_head_file("family_delta", folds=tmp_path)))
    assert held_out["format"] == 2 and set(held_out["heads"]) == set(training.HEAD_KIND)
    assert set(held_out["heads"]["injection"]["thresholds"]) == set(training.OPERATING_FPR)


def test_an_interrupted_training_leaves_no_folds_to_use(
    small_training: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = _Cache()
    for task in training.HEAD_KIND:
        training.train_task(task, small_training, cache, folds=tmp_path)  # type: ignore[arg-type]

    def interrupted(*_: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(training, "fit_head", interrupted)  # the harmful head's training stops at its first fold
    with pytest.raises(KeyboardInterrupt):
        training.train_task("harmful", small_training, cache, folds=tmp_path)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="no complete training"):
        training.held_out_head_file("family_gamma", folds=tmp_path)
