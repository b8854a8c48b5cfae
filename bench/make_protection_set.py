"""Writes the labelled prompts for request-side secret and PII detection (``just bench protection``).

Three sets from three seeds: ``dev`` (looked at while building the detector), ``test`` (its templates are the other
half of the list; measured once, and its false positives led to one fix) and ``holdout`` (made after that fix).
Each line: {"id", "prompt", "values": [{"kind", "value"}]}.
Positives carry real-looking values of each provider's format (random, never real credentials) and personal data in
several locales, inside ordinary requests; negatives carry look-alikes: UUIDs, hashes, git SHAs, order and tracking
numbers, published test card numbers and documentation example keys, versions, IPs, timestamps.

    python -m bench.make_protection_set   # rewrites bench/data/protection-{dev,test,holdout}.jsonl
"""

from __future__ import annotations

import hashlib
import json
import random
import string
import uuid
from collections.abc import Callable
from pathlib import Path

OUT = Path(__file__).resolve().parent / "data"
A = string.ascii_letters + string.digits
UP = string.ascii_uppercase + string.digits


def rand(r: random.Random, n: int, alphabet: str = A) -> str:
    return "".join(r.choice(alphabet) for _ in range(n))


def luhn_complete(r: random.Random, prefix: str, length: int) -> str:
    digits = prefix + "".join(r.choice(string.digits) for _ in range(length - len(prefix) - 1))
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            d -= 9 if d > 9 else 0
        total += d
    return digits + str((10 - total % 10) % 10)


def iban(r: random.Random, country: str, bban_len: int) -> str:
    bban = "".join(r.choice(string.digits) for _ in range(bban_len))
    numeric = "".join(str(int(c, 36)) for c in bban + country + "00")
    check = 98 - int(numeric) % 97
    raw = f"{country}{check:02d}{bban}"
    return " ".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def secret(r: random.Random, kind: str) -> str:
    makers: dict[str, Callable[[], str]] = {
        "openai_key": lambda: r.choice(["sk-proj-", "sk-", "sk-svcacct-"]) + rand(r, r.randint(40, 64), A + "_-"),
        "anthropic_key": lambda: "sk-ant-api03-" + rand(r, 80, A + "_-"),
        "aws_access_key": lambda: r.choice(["AKIA", "ASIA"]) + rand(r, 16, string.ascii_uppercase + "234567"),
        "github_token": lambda: r.choice(["ghp_", "gho_", "ghs_"]) + rand(r, 36),
        "gitlab_token": lambda: "glpat-" + rand(r, 20, A + "_-"),
        "slack_token": lambda: f"xoxb-{rand(r, 11, string.digits)}-{rand(r, 12, string.digits)}-{rand(r, 24)}",
        "stripe_key": lambda: "sk_live_" + rand(r, 24),
        "google_api_key": lambda: "AIza" + rand(r, 35, A + "_-"),
        "huggingface_token": lambda: "hf_" + rand(r, 34),
        "sendgrid_key": lambda: f"SG.{rand(r, 22, A + '_-')}.{rand(r, 43, A + '_-')}",
        "npm_token": lambda: "npm_" + rand(r, 36),
        "jwt": lambda: "eyJhbGciOiJIUzI1NiJ9.eyJ" + rand(r, 40, A + "_-") + "." + rand(r, 43, A + "_-"),
    }
    return makers[kind]()


SECRET_KINDS = ["openai_key", "anthropic_key", "aws_access_key", "github_token", "gitlab_token", "slack_token",
                "stripe_key", "google_api_key", "huggingface_token", "sendgrid_key", "npm_token", "jwt"]  # fmt: skip

FIRST = ["maria", "li.wei", "oluwaseun", "anna-lena", "jan", "sofia", "raj", "yuki", "ahmed", "chloe", "mateo"]
DOMAINS = ["acme-corp.io", "gmail.com", "web.de", "orange.fr", "yahoo.co.jp", "outlook.com", "hospital.nhs.uk",
           "uni-heidelberg.de", "empresa.com.br", "startup.dev"]  # fmt: skip
PHONES = [  # (format, country code digits) written as people write them, in several locales
    lambda r: f"+44 20 7{r.randint(100, 999)} {r.randint(1000, 9999)}",
    lambda r: f"+49 30 {r.randint(1000000, 9999999)}",
    lambda r: f"+33 1 {r.randint(10, 99)} {r.randint(10, 99)} {r.randint(10, 99)} {r.randint(10, 99)}",
    lambda r: f"({r.choice([415, 212, 617, 312])}) {r.randint(200, 999)}-{r.randint(1000, 9999)}",
    lambda r: f"+81 3-{r.randint(1000, 9999)}-{r.randint(1000, 9999)}",
    lambda r: f"+34 91{r.randint(1, 9)} {r.randint(100, 999)} {r.randint(100, 999)}",
]


def pii(r: random.Random, kind: str) -> str:
    if kind == "email":
        return f"{r.choice(FIRST)}{r.choice(['', '.', '_'])}{r.randint(1, 99)}@{r.choice(DOMAINS)}"
    if kind == "phone_number":
        return r.choice(PHONES)(r)
    if kind == "credit_card":
        prefix, length = r.choice([("4", 16), ("51", 16), ("55", 16), ("37", 15), ("6011", 16)])
        digits = luhn_complete(r, prefix, length)
        sep = r.choice(["", " ", "-"])
        groups = [digits[i : i + 4] for i in range(0, len(digits), 4)] if length == 16 else [
            digits[:4], digits[4:10], digits[10:]]  # fmt: skip
        return sep.join(groups)
    if kind == "iban":
        country, n = r.choice([("DE", 18), ("FR", 23), ("GB", 18), ("ES", 20), ("NL", 14), ("IT", 23)])
        return iban(r, country, n)
    if kind == "ssn":
        return f"{r.randint(101, 665):03d}-{r.randint(1, 99):02d}-{r.randint(1, 9999):04d}"
    raise ValueError(kind)


PII_KINDS = ["email", "phone_number", "credit_card", "iban", "ssn"]

# Templates with {0} {1} {2} for the values; the first half is dev's, the second half test's.
TEMPLATES = [
    "Can you debug this? My script fails with key {0} when calling the API.",
    "Please draft a reply to {0} confirming the refund.",
    "Summarise this ticket: customer {0} says the charge on card {1} was made twice.",
    "Here is my .env, why does it not load?\nAPI_KEY={0}\nDEBUG=true",
    "Translate to German: 'Please call me back at {0} tomorrow.'",
    "Write a SQL insert for a user with email {0} and phone {1}.",
    "Bitte überweise die Miete auf {0} und schick die Bestätigung an {1}.",
    "Le client {0} demande le remboursement sur la carte {1}.",
    "Why is this curl failing? curl -H 'Authorization: Bearer {0}' https://api.example.net/v1/items",
    'Refactor this function:\n```python\nclient = Client(token="{0}")\n```',
    "My SSN is {0}, can you fill in the tax form for me?",
    "お客様のメールアドレスは {0} です。返信を書いてください。",
    "Extract the contact details: name Sofia Rossi, mail {0}, tel {1}, IBAN {2}.",
    "I committed {0} to git by mistake, how do I rotate it?",
    "Check this config:\nstripe:\n  secret: {0}\nsmtp:\n  user: {1}",
    "El paciente llamó desde el {0} y pidió que le escriban a {1}.",
    "Format this as JSON: user={0}; card={1}",
    "Is this a valid JWT? {0}",
    "Send the invoice for order 88213 to {0}; they pay by IBAN {1}.",
    "Clean up this log line: 2026-03-01T10:22:09Z auth ok token={0} ip=10.0.3.7",
]
NEGATIVES = [
    lambda r: f"What does request id {uuid.UUID(int=r.getrandbits(128))} mean in the error log?",
    lambda r: f"The file's sha256 is {hashlib.sha256(rand(r, 12).encode()).hexdigest()}; is it the release build?",
    lambda r: f"Revert commit {hashlib.sha1(rand(r, 12).encode()).hexdigest()} and explain what it changed.",
    lambda r: f"Where is my order #{r.randint(100000, 999999)}-{r.randint(1000, 9999)}? It shipped on 2026-11-{r.randint(10, 28)}.",
    lambda r: "For Stripe test mode use card 4242 4242 4242 4242 with any future expiry, as the docs say.",
    lambda r: "The AWS docs use AKIAIOSFODNN7EXAMPLE and wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY as examples.",
    lambda r: f"Upgrade from version {r.randint(1, 9)}.{r.randint(0, 30)}.{r.randint(0, 99)} to the latest, what breaks?",
    lambda r: f"Ping {r.randint(10, 250)}.{r.randint(0, 255)}.{r.randint(0, 255)}.{r.randint(1, 254)} and report latency.",
    lambda r: f"Tracking number 1Z{rand(r, 16, UP)} shows no movement since Monday.",
    lambda r: "Set your key with export OPENAI_API_KEY=sk-... (replace with your own key).",
    lambda r: f"Our sk-learn pipeline has {r.randint(3, 40)} steps; which scaler should come first?",
    lambda r: f"The build took {r.randint(100, 9999)} seconds on runner {r.randint(1, 64)}, is that normal?",
    lambda r: "Use password = <your password here> in the template and never commit it.",
    lambda r: f"Invoice INV-{r.randint(2020, 2026)}-{r.randint(10000, 99999)} totals EUR {r.randint(10, 9999)},{r.randint(10, 99)}.",
    lambda r: f"The base64 of 'hello' is aGVsbG8=; decode {rand(r, 12, string.ascii_letters)} for me.",
    lambda r: f"Event timestamp {r.randint(1600000000, 1800000000)} in ISO format please.",
    lambda r: "Explain what AKIA means at the start of an AWS access key id.",
    lambda r: f"Product SKU {rand(r, 3, string.ascii_uppercase)}-{r.randint(1000, 9999)}-{rand(r, 2, string.ascii_uppercase)} is out of stock.",
    lambda r: "Contact the support team via the form on our website, not by email.",
    lambda r: f"Color #{rand(r, 6, '0123456789abcdef')} looks off on dark mode, suggest another.",
]  # fmt: skip


def build(seed: int, templates: list[str], negatives: int, positives: int) -> list[dict[str, object]]:
    r = random.Random(seed)
    rows: list[dict[str, object]] = []
    kinds = SECRET_KINDS + PII_KINDS
    for i in range(positives):
        template = templates[i % len(templates)]
        slots = template.count("{")
        values = []
        for slot in range(slots):
            kind = kinds[(i * 3 + slot) % len(kinds)] if slot else r.choice(kinds)
            values.append({"kind": kind, "value": secret(r, kind) if kind in SECRET_KINDS else pii(r, kind)})
        rows.append({"id": f"p{seed}-{i}", "prompt": template.format(*[v["value"] for v in values]), "values": values})
    for i in range(negatives):
        rows.append({"id": f"n{seed}-{i}", "prompt": NEGATIVES[i % len(NEGATIVES)](r), "values": []})
    return rows


def main() -> int:
    OUT.mkdir(exist_ok=True)
    half = len(TEMPLATES) // 2
    sets = {
        "dev": build(1, TEMPLATES[:half], 100, 120),
        "test": build(2, TEMPLATES[half:], 200, 200),
        # generated after the phone finder learned to skip labelled numbers and IPs, which "test" had shown
        "holdout": build(3, TEMPLATES[half:], 200, 200),
    }
    for name, rows in sets.items():
        path = OUT / f"protection-{name}.jsonl"
        path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))
        print(f"{path}: {len(rows)} prompts")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
