"""Training and evaluation data: the public sets under ``shared/datasets`` (read in place,
never copied into the repository) plus the small customer-service files this project wrote
(``training/data/*.jsonl``).

Every loader returns :class:`Example` rows; splits are deterministic given a seed.
"""

from __future__ import annotations

import csv
import json
import os
import sys
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path

import numpy as np

from ticketlens.schemas import DEFAULT_INTENTS, FLAGS, NO_FLAG, SENTIMENTS
from ticketlens.training.embed import ticket_text

INTENT_LABELS: tuple[str, ...] = DEFAULT_INTENTS
SENTIMENT_LABELS: tuple[str, ...] = SENTIMENTS
FLAG_LABELS: tuple[str, ...] = (NO_FLAG, *FLAGS)

# Where the shipped map disagrees with itself or with the customer-support reading of a
# ticket, this project's training overrides it (documented in docs/quality.md):
# - clinc "exchange_rate" is "other" but banking77 "exchange_rate" is general_inquiry: a
#   customer asking a bank for its exchange rate is a general inquiry.
# - clinc intents that are personal-assistant requests in CLINC but exactly what customers
#   write to an insurer, shop, airline or device maker (insurance questions, ordering,
#   bookings, lost luggage, device sync/reset, travel notices to a bank, pension rollovers,
#   tax forms, income) are left out
#   (None): teaching "these -> other" makes `other` fire on real support tickets.
CLINC_OVERRIDES: dict[str, str | None] = {
    "exchange_rate": "general_inquiry",
    # applying for a product the customer does not hold yet (a loan, a card) is a general
    # inquiry, and so is the status of that application (docs/quality.md, "Taxonomy")
    "application_status": "general_inquiry",
    **{
        name: None
        for name in ["insurance", "insurance_change", "order", "lost_luggage", "carry_on", "flight_status",
                     "book_flight", "book_hotel", "car_rental", "cancel_reservation", "confirm_reservation",
                     "accept_reservations", "restaurant_reservation", "reset_settings", "sync_device",
                     "travel_notification", "schedule_maintenance", "rollover_401k", "taxes", "w2", "income", "payday"]
    },
}

# Convention-derived weak sentiment labels for intent data (customer-service convention: a
# report that something went wrong is NEGATIVE however calmly worded; a plain question or
# request is NEUTRAL; thanks are POSITIVE). Fine labels not listed are not used.
BANKING77_NEGATIVE = frozenset(
    ["Refund_not_showing_up", "balance_not_updated_after_bank_transfer",
     "balance_not_updated_after_cheque_or_cash_deposit", "beneficiary_not_allowed", "card_arrival", "card_not_working",
     "card_payment_fee_charged", "card_payment_not_recognised", "card_payment_wrong_exchange_rate", "card_swallowed",
     "cash_withdrawal_charge", "cash_withdrawal_not_recognised", "compromised_card", "contactless_not_working",
     "declined_card_payment", "declined_cash_withdrawal", "declined_transfer", "direct_debit_payment_not_recognised",
     "extra_charge_on_statement", "failed_transfer", "lost_or_stolen_card", "lost_or_stolen_phone", "pin_blocked",
     "reverted_card_payment?", "top_up_failed", "top_up_reverted", "transaction_charged_twice", "transfer_fee_charged",
     "transfer_not_received_by_recipient", "unable_to_verify_identity", "virtual_card_not_working",
     "wrong_amount_of_cash_received", "wrong_exchange_rate_for_cash_withdrawal"]
)
BANKING77_NEUTRAL = frozenset(
    ["activate_my_card", "age_limit", "apple_pay_or_google_pay", "atm_support", "automatic_top_up",
     "card_about_to_expire", "card_acceptance", "card_delivery_estimate", "card_linking", "change_pin",
     "country_support", "disposable_card_limits", "edit_personal_details", "exchange_rate", "exchange_via_app",
     "fiat_currency_support", "get_disposable_virtual_card", "get_physical_card", "getting_spare_card",
     "getting_virtual_card", "order_physical_card", "receiving_money", "supported_cards_and_currencies",
     "top_up_limits", "topping_up_by_card", "transfer_into_account", "transfer_timing", "verify_my_identity",
     "verify_source_of_funds", "visa_or_mastercard", "why_verify_identity", "top_up_by_cash_or_cheque",
     "terminate_account"]
)
CLINC_NEGATIVE = frozenset(
    ["damaged_card", "report_fraud", "report_lost_card", "card_declined", "lost_luggage", "account_blocked"]
)
CLINC_POSITIVE = frozenset(["thank_you"])
NLBSE_SENTIMENT = {"bug": "NEGATIVE", "feature": "NEUTRAL", "question": "NEUTRAL"}


@dataclass(frozen=True)
class Example:
    text: str
    label: str
    source: str  # data set it came from
    fine: str = ""  # the data set's own label, when it has one
    split: str = "train"  # train / calib / val


# --- locating data ----------------------------------------------------------------------


def find_data_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """``--data-dir``, else ``$TICKETLENS_DATASETS``, else ``<repo>/../shared/datasets`` found
    by walking up from the current directory."""
    if explicit:
        path = Path(explicit)
        if not path.is_dir():
            raise FileNotFoundError(f"data directory {path} does not exist")
        return path
    env = os.environ.get("TICKETLENS_DATASETS")
    if env:
        return find_data_dir(env)
    here = Path.cwd().resolve()
    for base in (here, *here.parents):
        for candidate in (base / "shared" / "datasets", base.parent / "shared" / "datasets"):
            if (candidate / "intent").is_dir():
                return candidate
    raise FileNotFoundError(
        "cannot find shared/datasets: pass --data-dir or set TICKETLENS_DATASETS"
    )


def packaged_data(name: str) -> Path:
    """A data file this project wrote, shipped in ``ticketlens/training/data``."""
    return Path(str(resources.files("ticketlens.training") / "data" / name))


# --- generic jsonl ------------------------------------------------------------------------


def read_jsonl(path: str | os.PathLike[str]) -> list[dict]:
    rows = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            line = line.strip()
            if not line or line.startswith("//"):
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as error:
                raise ValueError(f"{path}:{number}: not JSON ({error})") from None
    return rows


def row_text(row: dict) -> str:
    """``text``, or a ticket's ``subject`` + ``body`` joined as the engine joins them."""
    if "text" in row:
        return str(row["text"]).strip()
    return ticket_text(str(row.get("subject", "")), str(row.get("body", "")))


def load_labels_jsonl(path: str | os.PathLike[str], field: str = "label") -> list[Example]:
    """Lines of ``{"text": ..., "label": ...}`` (or subject/body; ``field`` picks the label)."""
    out = []
    for number, row in enumerate(read_jsonl(path), 1):
        label = row.get(field, row.get("label"))
        text = row_text(row)
        if label is None or not text:
            raise ValueError(f"{path}:{number}: needs a text (or subject/body) and a {field!r}")
        out.append(Example(text=text, label=str(label), source=Path(path).stem))
    return out


# --- splitting ----------------------------------------------------------------------------


def stratified_split(
    examples: Sequence[Example], fractions: dict[str, float], seed: int, key: str = "fine"
) -> list[Example]:
    """Assign each example a split, stratified by ``key`` (fine label by default)."""
    rng = np.random.default_rng(seed)
    groups: dict[str, list[int]] = defaultdict(list)
    for index, example in enumerate(examples):
        groups[getattr(example, key) or example.label].append(index)
    names = list(fractions)
    out = list(examples)
    for _, members in sorted(groups.items()):
        order = rng.permutation(members)
        bounds = np.round(np.cumsum([fractions[n] for n in names]) * len(order)).astype(int)
        start = 0
        for name, end in zip(names, bounds, strict=True):
            for index in order[start:end]:
                out[index] = replace(out[index], split=name)
            start = end
    return out


# --- intent -----------------------------------------------------------------------------


def _taxonomy(data_dir: Path) -> dict:
    return json.loads((data_dir / "intent" / "taxonomy_map.json").read_text(encoding="utf-8"))


def load_banking77(data_dir: Path) -> list[tuple[str, str]]:
    with open(data_dir / "intent" / "banking77" / "train.csv", encoding="utf-8", newline="") as handle:
        return [(row["text"].strip(), row["category"]) for row in csv.DictReader(handle)]


def load_clinc(data_dir: Path) -> dict[str, list[tuple[str, str]]]:
    raw = json.loads((data_dir / "intent" / "clinc150" / "data_train_val.json").read_text(encoding="utf-8"))
    return {split: [(t.strip(), lab) for t, lab in rows] for split, rows in raw.items()}


def issue_text(title: str, body: str, max_chars: int = 2000) -> str:
    """A GitHub issue as a ticket body: title line then the body (the encoder truncates at
    256 tokens anyway; the cut keeps cache keys small)."""
    return ticket_text(title, body[:max_chars])


def load_nlbse(data_dir: Path) -> list[tuple[str, str]]:
    csv.field_size_limit(sys.maxsize)
    with open(data_dir / "intent" / "nlbse24" / "issues_train.csv", encoding="utf-8", newline="") as handle:
        return [(issue_text(row["title"], row["body"]), row["label"]) for row in csv.DictReader(handle)]


def load_intent_public(data_dir: Path, seed: int) -> list[Example]:
    """banking77 + clinc150 + nlbse24 mapped to the default taxonomy, with train/calib/val."""
    tax = _taxonomy(data_dir)
    split3 = {"train": 0.75, "calib": 0.10, "val": 0.15}
    banking = [Example(t, tax["banking77"][f], "banking77", f) for t, f in load_banking77(data_dir)]
    out = stratified_split(banking, split3, seed)

    clinc = load_clinc(data_dir)

    def clinc_rows(split_name: str, rows: Iterable[tuple[str, str]]) -> list[Example]:
        kept = []
        for text, fine in rows:
            label = CLINC_OVERRIDES.get(fine, tax["clinc150"][fine])
            if label is not None:
                kept.append(Example(text, label, "clinc150", fine, split_name))
        return kept

    out += clinc_rows("train", clinc["train"])
    out += clinc_rows("train", clinc["oos_train"])
    # clinc's own val split: half calibrates, half validates
    out += stratified_split(clinc_rows("val", clinc["val"] + clinc["oos_val"]), {"calib": 0.4, "val": 0.6}, seed)

    issues = [Example(t, tax["nlbse24"][f], "nlbse24", f) for t, f in load_nlbse(data_dir)]
    out += stratified_split(issues, split3, seed)
    return out


# --- sentiment ---------------------------------------------------------------------------


def load_tweeteval(data_dir: Path) -> dict[str, list[tuple[str, str]]]:
    base = data_dir / "sentiment" / "tweeteval"
    names = {0: "NEGATIVE", 1: "NEUTRAL", 2: "POSITIVE"}
    out = {}
    for split in ("val", "test"):
        texts = (base / f"{split}_text.txt").read_text(encoding="utf-8").splitlines()
        labels = (base / f"{split}_labels.txt").read_text(encoding="utf-8").split()
        out[split] = [(t.strip(), names[int(lab)]) for t, lab in zip(texts, labels, strict=True)]
    return out


def weak_sentiment_from_intents(data_dir: Path, seed: int, per_class_cap: int = 2500) -> list[Example]:
    """Convention-derived sentiment labels for intent-data texts (see module constants)."""
    rows: list[Example] = []
    for text, fine in load_banking77(data_dir):
        if fine in BANKING77_NEGATIVE:
            rows.append(Example(text, "NEGATIVE", "weak:banking77", fine))
        elif fine in BANKING77_NEUTRAL:
            rows.append(Example(text, "NEUTRAL", "weak:banking77", fine))
    clinc = load_clinc(data_dir)
    for text, fine in clinc["train"]:
        if fine in CLINC_NEGATIVE:
            rows.append(Example(text, "NEGATIVE", "weak:clinc150", fine))
        elif fine in CLINC_POSITIVE:
            rows.append(Example(text, "POSITIVE", "weak:clinc150", fine))
        else:
            rows.append(Example(text, "NEUTRAL", "weak:clinc150", fine))
    for text, fine in load_nlbse(data_dir):
        rows.append(Example(text, NLBSE_SENTIMENT[fine], "weak:nlbse24", fine))
    # cap each (source, label) so weak labels do not swamp the tweets; keep fine variety
    rng = np.random.default_rng(seed)
    by: dict[tuple[str, str], list[Example]] = defaultdict(list)
    for row in rows:
        by[(row.source, row.label)].append(row)
    kept: list[Example] = []
    for (_, _), members in sorted(by.items()):
        order = rng.permutation(len(members))[:per_class_cap]
        kept += [members[i] for i in sorted(order)]
    return kept


def load_sentiment_public(data_dir: Path, seed: int) -> list[Example]:
    tweets = load_tweeteval(data_dir)
    out = [Example(t, lab, "tweeteval", lab, "train") for t, lab in tweets["test"]]
    val = [Example(t, lab, "tweeteval", lab) for t, lab in tweets["val"]]
    out += stratified_split(val, {"calib": 0.4, "val": 0.6}, seed)
    weak = weak_sentiment_from_intents(data_dir, seed)
    out += stratified_split(weak, {"train": 0.85, "calib": 0.05, "val": 0.10}, seed, key="label")
    out += load_tweetsumm_sentiment(data_dir)
    return out


# --- this project's own customer-service data ---------------------------------------------


# written tickets and transcribed call/chat turns, kept apart so each is weighted and scored
OWN_TRAIN_FILES = (
    "cs_train.jsonl", "cs_calls_train.jsonl", "cs_tweets_train.jsonl", "cs_scope_train.jsonl",
)
OWN_EVAL_FILES = ("cs_eval.jsonl", "cs_eval_calls.jsonl")


def load_own(kind: str, seed: int) -> list[Example]:
    """The customer-service examples this project wrote, for ``kind`` (intent/sentiment).

    The ``*_train`` files train (with a small calib share); the ``*_eval`` files are never
    trained on: they are the hand-written tickets and call turns every head is validated on.
    Each file is its own source, named by its stem."""
    out: list[Example] = []
    for name in OWN_TRAIN_FILES:
        source = Path(name).stem
        rows = [Example(row_text(r), r[kind], source, r[kind]) for r in read_jsonl(packaged_data(name)) if r.get(kind)]
        out += stratified_split(rows, {"train": 0.9, "calib": 0.1}, seed, key="label")
    for name in OWN_EVAL_FILES:
        source = Path(name).stem
        out += [
            Example(row_text(r), r[kind], source, r[kind], "val")
            for r in read_jsonl(packaged_data(name))
            if r.get(kind)
        ]
    return out


def load_tweetsumm_sentiment(data_dir: Path) -> list[Example]:
    """Real customer-care tweets (customer turns of TweetSumm dialogues) with sentiment
    labels this project assigned by the customer-service convention. Validation only: the
    labels file holds ids and labels, the text is read from the shared data set."""
    path = data_dir / "summarization" / "tweetsumm_dev.jsonl"
    if not path.is_file():
        return []
    turns = {row["conversation_id"]: row["turns"] for row in read_jsonl(path)}
    out = []
    for row in read_jsonl(packaged_data("tweetsumm_sentiment_labels.jsonl")):
        dialogue = turns.get(row["conversation_id"])
        if dialogue is None:
            continue
        text = dialogue[row["turn"]]["text"].strip()
        out.append(Example(text, row["sentiment"], "tweetsumm-cs", row["sentiment"], "val"))
    return out


# --- the no-action flag ----------------------------------------------------------------------

FLAG_TRAIN_FILE = "flag_train.jsonl"
FLAG_EVAL_FILE = "flag_eval.jsonl"
# intents whose rows are support requests: someone has to answer them (never flagged)
REQUEST_INTENTS = frozenset(INTENT_LABELS) - {"other"}
FLAG_TWEETS = 3000  # general tweets (tweeteval) as ordinary messages: informal is not spam


def load_flag(data_dir: Path, seed: int) -> list[Example]:
    """Training and validation rows for the no-action flag head.

    Positives (spam, auto_reply, thanks) are this project's own lines (``flag_train`` trains,
    ``flag_eval`` is written from another brief and only scored) plus CLINC150's thank_you
    queries. Everything else is a message that is not one of those (``none``): the public
    intent data (same splits as the intent head), the own support requests, complaints and
    tweets (3,000 of tweeteval: informal is not spam) and, for validation only, the first
    customer turn of every TweetSumm dialogue and the own held-out requests."""
    out: list[Example] = []
    rows = [Example(row_text(r), r["flag"], "flag_train", r["flag"])
            for r in read_jsonl(packaged_data(FLAG_TRAIN_FILE))]
    out += stratified_split(rows, {"train": 0.85, "calib": 0.15}, seed, key="label")
    out += [Example(row_text(r), r["flag"], "flag_eval", r["flag"], "val")
            for r in read_jsonl(packaged_data(FLAG_EVAL_FILE))]
    for example in load_intent_public(data_dir, seed):
        label = "thanks" if example.fine == "thank_you" else NO_FLAG
        out.append(replace(example, label=label))
    for name in ("cs_train.jsonl", "cs_calls_train.jsonl", "cs_scope_train.jsonl"):
        source = Path(name).stem
        requests = [
            Example(row_text(r), NO_FLAG, source, r["intent"])
            for r in read_jsonl(packaged_data(name))
            if r.get("intent") in REQUEST_INTENTS
        ]
        out += stratified_split(requests, {"train": 0.9, "calib": 0.1}, seed, key="label")
    # complaints and calm reports in tweet and chat form: without them, "tweet-shaped" reads as spam
    for name in ("cs_train.jsonl", "cs_tweets_train.jsonl"):
        source = f"{Path(name).stem}:complaints"
        rows = [
            Example(row_text(r), NO_FLAG, source, r["sentiment"])
            for r in read_jsonl(packaged_data(name))
            if not r.get("intent") and r.get("sentiment") in ("NEGATIVE", "NEUTRAL")
        ]
        out += stratified_split(rows, {"train": 0.9, "calib": 0.1}, seed, key="label")
    tweets = [Example(t, NO_FLAG, "tweeteval", lab) for t, lab in load_tweeteval(data_dir)["test"]]
    keep = np.sort(np.random.default_rng(seed).permutation(len(tweets))[:FLAG_TWEETS])
    out += stratified_split([tweets[i] for i in keep], {"train": 0.9, "calib": 0.1}, seed)
    for name in OWN_EVAL_FILES:
        source = Path(name).stem
        out += [
            Example(row_text(r), NO_FLAG, source, r["intent"], "val")
            for r in read_jsonl(packaged_data(name))
            if r.get("intent") in REQUEST_INTENTS
        ]
    out += load_tweetsumm_openers(data_dir)
    return out


def load_tweetsumm_openers(data_dir: Path) -> list[Example]:
    """The first customer turn of each TweetSumm dialogue: a real message that opens a
    conversation with a support desk (validation only)."""
    path = data_dir / "summarization" / "tweetsumm_dev.jsonl"
    if not path.is_file():
        return []
    out = []
    for row in read_jsonl(path):
        first = next((t["text"].strip() for t in row["turns"] if t["role"] == "Customer" and t["text"].strip()), None)
        if first:
            out.append(Example(first, NO_FLAG, "tweetsumm-openers", NO_FLAG, "val"))
    return out
