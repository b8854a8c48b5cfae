"""Export alt-profanity-check's model (MIT; TF-IDF unigrams + five sigmoid-calibrated linear SVMs) to
adapters/ml/weights/toxicity_linear.json, so the proxy scores toxicity with numpy alone.

Loading the package at run time costs about 90 MB of resident memory (scikit-learn and scipy) for a linear model
over 15,442 words; the exported form gives the same probabilities (tests/unit/test_toxicity_export.py checks it
against the package) for about 5 MB. Run by ``just train-detectors``; needs the dev extras (alt-profanity-check).
"""

from __future__ import annotations

import json
import sys
from importlib import resources
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "adapters" / "ml" / "weights" / "toxicity_linear.json"


def main() -> int:
    import joblib

    data = resources.files("profanity_check") / "data"
    vectorizer = joblib.load(data / "vectorizer.joblib")
    model = joblib.load(data / "model.joblib")
    params = vectorizer.get_params()
    assert params["ngram_range"] == (1, 1) and params["norm"] == "l2" and params["lowercase"], params
    assert not params["sublinear_tf"] and params["use_idf"], params
    classifiers = model.calibrated_classifiers_
    terms = sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.get)
    idf = vectorizer.idf_
    coefs = [c.estimator.coef_[0] for c in classifiers]
    vocabulary = {
        term: [round(float(idf[i]), 6), *(round(float(coef[i]), 6) for coef in coefs)] for i, term in enumerate(terms)
    }
    spec = {
        "source": "alt-profanity-check 1.9.1 (MIT): TF-IDF unigrams, 5 sigmoid-calibrated linear SVMs, averaged",
        "token_pattern": params["token_pattern"],
        "intercepts": [float(c.estimator.intercept_[0]) for c in classifiers],
        "calibration": [[float(c.calibrators[0].a_), float(c.calibrators[0].b_)] for c in classifiers],
        "vocabulary": vocabulary,
    }
    OUT.write_text(json.dumps(spec, separators=(",", ":")))
    print(f"wrote {OUT} ({len(terms)} terms, {len(classifiers)} classifiers)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
