"""all-MiniLM-L6-v2 run directly on torch: the BERT encoder's forward pass in a few functional calls, its weights read
from the package's ``model.safetensors`` and its tokenizer from ``tokenizer.json`` (the ``tokenizers`` library).

Why not ``transformers.AutoModel``: importing transformers and building the model through it took 6.4 s of the
proxy's start on this machine (import 2.3 s, ``from_pretrained`` 4.1 s, against 0.2 s here), and its module and hook
machinery added about a third to every short forward pass. The arithmetic is the same (the same torch kernels in the
same order: embeddings, then per layer scaled-dot-product attention, dense, residual and LayerNorm, GELU feed-forward);
``tests/unit/test_minilm.py`` holds it to transformers' output within float rounding, and the training script
(``ml/train_detectors.py``) embeds through this class too, so the heads see exactly what they were trained on.
"""

from __future__ import annotations

import json
import warnings
from functools import partial
from pathlib import Path
from typing import Any

PRECISIONS = ("fp32", "int8")


class MiniLMEncoder:
    """The encoder of a BERT checkpoint (``config.json`` + ``model.safetensors``), inference only.

    ``precision="int8"``: every linear layer of the encoder (query/key/value, attention output, feed-forward) runs as
    torch's dynamically quantised int8 linear (weights int8 per output channel, activations quantised per batch);
    embeddings, attention scores, LayerNorm and GELU stay fp32. A forward pass streams a quarter of the weight bytes,
    which is what bounds it on this CPU. The features move (cosine about 0.95 against fp32), so heads must be trained
    on the precision they are served with: the head file names it (``encoder_precision``)."""

    def __init__(self, model_dir: Path, precision: str = "fp32") -> None:
        import torch
        from safetensors.torch import load_file

        if precision not in PRECISIONS:
            raise ValueError(f"encoder precision must be one of {PRECISIONS}, not {precision!r}")
        self.precision = precision

        config = json.loads((model_dir / "config.json").read_text())
        if config.get("model_type") != "bert" or config.get("hidden_act") != "gelu":
            raise ValueError(f"{model_dir} is not a BERT checkpoint with GELU activations")
        self._torch = torch
        self.hidden_size = int(config["hidden_size"])
        self.heads = int(config["num_attention_heads"])
        self.layers = int(config["num_hidden_layers"])
        self.eps = float(config["layer_norm_eps"])
        weights = load_file(str(model_dir / "model.safetensors"))
        self._w: dict[str, Any] = {k.removeprefix("bert."): v.float() for k, v in weights.items()}
        self._word = self._w["embeddings.word_embeddings.weight"]
        self._position = self._w["embeddings.position_embeddings.weight"]
        self._token_type0 = self._w["embeddings.token_type_embeddings.weight"][0]
        self._per_layer = [self._layer_weights(i) for i in range(self.layers)]
        if precision != "fp32":  # the fp32 copies of the quantised matrices are not needed any more
            self._w = {k: v for k, v in self._w.items() if not k.startswith("encoder.") or "LayerNorm" in k}

    def _linear(self, weight: Any, bias: Any) -> Any:
        """``x -> x @ weight.T + bias`` at the encoder's precision."""
        torch = self._torch
        if self.precision == "fp32":
            return partial(torch.nn.functional.linear, weight=weight, bias=bias)
        from torch.ao.nn.quantized.dynamic import Linear as DynamicInt8Linear

        dense = torch.nn.Linear(weight.shape[1], weight.shape[0])
        with torch.no_grad():
            dense.weight.copy_(weight)
            dense.bias.copy_(bias)
        dense.qconfig = torch.ao.quantization.per_channel_dynamic_qconfig
        with warnings.catch_warnings():  # torch 2.13 (pinned) announces these kernels' move out of torch core
            warnings.filterwarnings("ignore", message=".*quantized tensor creation functions.*")
            return DynamicInt8Linear.from_float(dense)

    def _layer_weights(self, i: int) -> tuple[Any, ...]:
        w, p = self._w, f"encoder.layer.{i}."
        torch = self._torch
        # query, key and value in one matrix: one matrix product instead of three
        qkv_weight = torch.cat([w[p + f"attention.self.{n}.weight"] for n in ("query", "key", "value")])
        qkv_bias = torch.cat([w[p + f"attention.self.{n}.bias"] for n in ("query", "key", "value")])
        return (
            self._linear(qkv_weight, qkv_bias),
            self._linear(w[p + "attention.output.dense.weight"], w[p + "attention.output.dense.bias"]),
            w[p + "attention.output.LayerNorm.weight"],
            w[p + "attention.output.LayerNorm.bias"],
            self._linear(w[p + "intermediate.dense.weight"], w[p + "intermediate.dense.bias"]),
            self._linear(w[p + "output.dense.weight"], w[p + "output.dense.bias"]),
            w[p + "output.LayerNorm.weight"],
            w[p + "output.LayerNorm.bias"],
        )

    def hidden_states(self, input_ids: Any, attention_mask: Any) -> list[Any]:
        """``[embeddings, after layer 1, ..., after layer N]``, each (batch x tokens x hidden), as transformers'
        ``output_hidden_states``. Call under ``torch.inference_mode()``."""
        torch = self._torch
        functional = torch.nn.functional
        batch, length = input_ids.shape
        size = self.hidden_size
        hidden = self._word[input_ids] + self._position[:length] + self._token_type0
        hidden = functional.layer_norm(
            hidden, (size,), self._w["embeddings.LayerNorm.weight"], self._w["embeddings.LayerNorm.bias"], self.eps
        )
        states = [hidden]
        # a padded token is never attended to; without padding no mask is needed (the faster kernel path)
        mask = None if bool(attention_mask.all()) else attention_mask.bool()[:, None, None, :]
        head_size = size // self.heads
        for project_qkv, attention_out, ln1_w, ln1_b, up, down, ln2_w, ln2_b in self._per_layer:
            qkv = project_qkv(hidden).view(batch, length, 3, self.heads, head_size)
            query, key, value = qkv.permute(2, 0, 3, 1, 4).unbind(0)
            context = functional.scaled_dot_product_attention(query, key, value, attn_mask=mask)
            context = context.transpose(1, 2).reshape(batch, length, size)
            hidden = functional.layer_norm(attention_out(context) + hidden, (size,), ln1_w, ln1_b, self.eps)
            inner = functional.gelu(up(hidden))
            hidden = functional.layer_norm(down(inner) + hidden, (size,), ln2_w, ln2_b, self.eps)
            states.append(hidden)
        return states


class WordPieceTokenizer:
    """The checkpoint's ``tokenizer.json`` without its built-in truncation and padding (windows are cut here)."""

    def __init__(self, model_dir: Path) -> None:
        from tokenizers import Tokenizer

        self._tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self._tokenizer.no_truncation()
        self._tokenizer.no_padding()
        vocab = self._tokenizer.get_vocab()
        self.cls_token_id, self.sep_token_id, self.pad_token_id = vocab["[CLS]"], vocab["[SEP]"], vocab["[PAD]"]

    def ids(self, text: str) -> list[int]:
        try:
            encoding = self._tokenizer.encode(text, add_special_tokens=False)
        except (TypeError, ValueError):  # text that is not valid Unicode (a lone surrogate): its valid parts count
            encoding = self._tokenizer.encode(text.encode("utf-8", "replace").decode("utf-8"), add_special_tokens=False)
        return list(encoding.ids)
