"""The exported toxicity model gives the installed package's probabilities (dev extras ship alt-profanity-check)."""

from __future__ import annotations

import pytest

from adapters.ml.toxicity import ProfanityToxicityScorer, chunks

TEXTS = [
    "You are a worthless idiot and nobody will ever love you.",
    "Thank you for your question. Here is a summary of the quarterly results.",
    "Shut the hell up, you stupid moron.",
    "To kill a process on Linux, run kill -9 followed by the process id.",
    "",
    "zzzz qqqq",
    "Fuck off. FUCK OFF! fuck-off",
]


def test_exported_model_matches_the_package() -> None:
    profanity_check = pytest.importorskip("profanity_check")
    expected = profanity_check.predict_prob(TEXTS)
    scorer = ProfanityToxicityScorer()
    for text, want in zip(TEXTS, expected, strict=True):
        assert scorer.probability(text) == pytest.approx(float(want), abs=1e-5), text


def test_long_outputs_are_scored_per_sentence() -> None:
    scorer = ProfanityToxicityScorer()
    polite = "Here is a careful and detailed answer to your question about the quarterly budget. " * 12
    insult = "You are a worthless idiot."
    assert scorer.score(polite) < 0.3
    assert scorer.score(polite + insult + " " + polite) > 0.9  # one abusive sentence is not averaged away
    assert len(chunks(polite)) > 1 and scorer.score("   ") == 0.0
