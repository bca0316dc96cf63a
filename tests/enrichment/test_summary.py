"""The one-line summary: short, never empty, faithful, clean, and about the customer's need.

Tests that summarize use the real encoder (loaded once for the module); the splitter,
cleaner and ROUGE tests are pure functions.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import pytest

from ticketlens.enrichment.summary import (
    FRAMING_WORDS,
    MAX_SUMMARY_WORDS,
    PLACEHOLDER_WORDS,
    ExtractiveSummarizer,
    Summarizer,
    clean_sentence,
    count_words,
    frame,
    shorten,
    split_sentences,
)
from ticketlens.models import Encoder, load_encoder
from ticketlens.settings import Settings
from ticketlens.training.summary_eval import (
    first_sentence_baseline,
    load_tweetsumm,
    register,
    rouge1,
    rouge1_f,
    rouge_tokens,
    unsupported_words,
)

LOGIN = "Hi team, hope you're well. I can't log in since the update and I have a demo at 3pm. Thanks, Bob"
_LONG_SENTENCE = (
    "I have been trying to export the quarterly report for the finance team since Monday morning "
    "but every single time I press the export button the page freezes and then shows a blank screen "
    "and nothing is downloaded and my manager is now asking me where the numbers are"
)
TICKETS = [
    LOGIN,
    "Payment failed\nDear Support Team,\n\nI hope this message finds you well. My card was charged twice "
    "for order 4411 and I need a refund for the second charge.\n\nKind regards,\nAnna Smith\nFinance, Acme Ltd",
    "@AmazonHelp my parcel says delivered but it never arrived 😡 https://t.co/AbC123 #fail",
    "@Delta Stupid delays again\n@Delta Flight DL1691 is 3 hours late and nobody tells us anything\n"
    "@Delta thanks for nothing",
    _LONG_SENTENCE + " " + _LONG_SENTENCE,
    " ".join(["word"] * 400),
    "https://example.com/only/a/link",
    "bob.smith@example.com",
    "😡😡😡",
    "Hi",
    "Thanks!",
    "?",
    "refund",
    "Mr. Smith from e.g. the v1.2 team said it's fixed. It is not.",
    "- login broken\n- export broken\n- billing page shows 500",
    "Mi pedido no ha llegado y necesito ayuda urgente.",
    "Please call me on +44 7700 900123 or write to jane@example.org, my account is locked.",
]


@pytest.fixture(scope="module")
def encoder() -> Encoder:
    return load_encoder(Settings())


@pytest.fixture(scope="module")
def summarizer() -> ExtractiveSummarizer:
    return ExtractiveSummarizer()


def _summarize(encoder: Encoder, summarizer: Summarizer, texts: list[str]) -> list[str]:
    return summarizer.summarize(texts, encoder.encode(texts))


@pytest.fixture(scope="module")
def summaries(encoder: Encoder, summarizer: ExtractiveSummarizer) -> list[str]:
    return _summarize(encoder, summarizer, TICKETS)


# --- the promises every summary keeps --------------------------------------------------------


@pytest.mark.slow
def test_every_summary_is_at_most_25_words_and_never_empty(summaries: list[str]) -> None:
    # GIVEN varied tickets: emails, tweets, a 400-word run-on, links, emoji, one word, "?"
    # WHEN summarized (fixture)
    # THEN each summary has 1..25 words, counted by whitespace and by ROUGE tokens alike
    for ticket, summary in zip(TICKETS, summaries, strict=True):
        assert summary.strip(), ticket
        assert len(summary.split()) <= MAX_SUMMARY_WORDS, summary
        assert len(rouge_tokens(summary)) <= MAX_SUMMARY_WORDS, summary
        assert count_words(summary) <= MAX_SUMMARY_WORDS


@pytest.mark.slow
def test_every_summary_word_comes_from_the_ticket(summaries: list[str]) -> None:
    # GIVEN the summaries of the varied tickets
    # THEN every word is the customer's own, apart from the fixed "Customer ..." frame and
    #      the neutral tokens that stand in for removed PII
    allowed = FRAMING_WORDS | PLACEHOLDER_WORDS
    for ticket, summary in zip(TICKETS, summaries, strict=True):
        assert not unsupported_words(summary, ticket, allowed), (ticket, summary)


@pytest.mark.slow
def test_without_framing_every_word_is_verbatim(encoder: Encoder) -> None:
    # GIVEN the summarizer with the attribution frame turned off
    plain = ExtractiveSummarizer(framing="none")
    # WHEN it summarizes tickets without PII
    texts = [t for t in TICKETS if "@example" not in t]
    # THEN every output word appears in the ticket, no exceptions
    for ticket, summary in zip(texts, _summarize(encoder, plain, texts), strict=True):
        assert not unsupported_words(summary, ticket), (ticket, summary)


@pytest.mark.slow
def test_greetings_signoffs_links_handles_emails_and_phones_are_stripped(summaries: list[str]) -> None:
    # GIVEN tickets with greetings, sign-offs, signatures, @handles, URLs, e-mails, phone numbers
    # THEN no summary carries any of them (a ticket that is only "Hi" or "Thanks!" keeps it:
    #      a summary is never empty)
    for ticket, summary in zip(TICKETS, summaries, strict=True):
        if ticket in ("Hi", "Thanks!"):
            continue
        assert "@" not in summary, summary
        assert not re.search(r"https?://|t\.co|example\.(com|org)", summary), summary
        assert "7700" not in summary, summary
        assert not re.match(r"(?i)(hi|hello|dear)\b", summary), summary
        assert not re.search(r"(?i)\b(thanks|regards|bob|anna smith)\b", summary), summary


@pytest.mark.slow
def test_summaries_come_back_in_input_order_for_a_batch(encoder: Encoder, summarizer: ExtractiveSummarizer) -> None:
    # GIVEN the same tickets summarized one at a time and as one batch
    one_by_one = [_summarize(encoder, summarizer, [t])[0] for t in TICKETS[:5]]
    # THEN the batch gives the same summaries in the same order
    assert _summarize(encoder, summarizer, TICKETS[:5]) == one_by_one


# --- picking the need -------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(
    ("ticket", "expected"),
    [
        (LOGIN, "can't log in"),
        (
            "Hello,\nI hope you are doing well.\nMy order #12345 hasn't arrived yet and it's been two weeks.\n"
            "Kind regards,\nAnna Smith",
            "hasn't arrived",
        ),
        (
            "Good morning! Love the app, keep up the good work. The export to PDF button does nothing "
            "since yesterday. Cheers, Tom",
            "export to PDF",
        ),
        ("@AskeBay hi there, I have a problem with my account logging out at checkout. Is there a fix?", "logging out"),
        ("Thanks in advance!\n\nPlease reset my password, the reset email never arrives.\n\nBest,\nKim", "reset"),
    ],
)
def test_picks_the_sentence_that_says_what_the_customer_needs(
    encoder: Encoder, summarizer: ExtractiveSummarizer, ticket: str, expected: str
) -> None:
    # GIVEN a hand-written ticket wrapped in greetings, pleasantries and a sign-off
    # WHEN summarized
    (summary,) = _summarize(encoder, summarizer, [ticket])
    # THEN the summary is the need sentence
    assert expected.lower() in summary.lower(), summary


@pytest.mark.slow
@pytest.mark.parametrize(
    ("ticket", "expected", "not_expected"),
    [
        ("I AM BEYOND FRUSTRATED!!! why can't I sign in??", "sign in", "frustrated"),
        ("Re: Can't log in\nlogin works again - thank you!!", "works again", "re:"),
        ("Worst airline ever. My flight was cancelled and nobody rebooked me.", "cancelled", "worst"),
    ],
)
def test_the_problem_wins_over_the_loudest_sentence(
    encoder: Encoder, summarizer: ExtractiveSummarizer, ticket: str, expected: str, not_expected: str
) -> None:
    # GIVEN a ticket whose loudest line is a feeling or a reply's old subject
    # WHEN summarized
    (summary,) = _summarize(encoder, summarizer, [ticket])
    # THEN the summary is the sentence that says what is wrong (or what changed)
    assert expected in summary.lower() and not_expected not in summary.lower(), summary


def test_problem_check_scores_summaries_against_labelled_sentences(encoder: Encoder) -> None:
    # GIVEN two hand-labelled tickets, one whose problem sentence is also its loudest
    from ticketlens.training.summary_eval import problem_check

    rows = [
        {"subject": "", "body": "So angry!!! The app deletes my drafts when I close it.",
         "problem": "deletes my drafts"},
        {"subject": "", "body": "Please cancel my subscription today.", "problem": "cancel my subscription"},
    ]
    # WHEN the check runs with the shipped summarizer
    report = problem_check(rows, encoder=encoder)
    # THEN both pass and nothing is listed as a failure
    assert report["n"] == 2 and report["pass_rate"] == 1.0 and report["failures"] == []


@pytest.mark.slow
def test_login_ticket_reads_as_the_customer_need(encoder: Encoder, summarizer: ExtractiveSummarizer) -> None:
    # GIVEN the login ticket
    (summary,) = _summarize(encoder, summarizer, [LOGIN])
    # THEN it is framed as the customer's, in their words
    # (one person throughout: the rewrite would give "Customer can't ... and I have")
    assert summary == "Customer: I can't log in since the update and I have a demo at 3pm."


@pytest.mark.slow
def test_long_ticket_is_cut_to_25_words_at_a_clause_boundary(
    encoder: Encoder, summarizer: ExtractiveSummarizer
) -> None:
    # GIVEN a ticket that is one 55-word run-on sentence, twice
    (summary,) = _summarize(encoder, summarizer, [_LONG_SENTENCE + ". " + _LONG_SENTENCE])
    # THEN the summary is its start, cut before a clause word, at most 25 words
    assert count_words(summary) <= MAX_SUMMARY_WORDS
    assert summary.startswith("Customer has been trying to export the quarterly report")
    assert not summary.endswith((" and", " the", " but"))


@pytest.mark.slow
def test_ticket_of_only_pii_gets_a_neutral_non_empty_summary(
    encoder: Encoder, summarizer: ExtractiveSummarizer
) -> None:
    # GIVEN tickets that are only an e-mail address or only a link
    summaries = _summarize(encoder, summarizer, ["bob.smith@example.com", "https://example.com/x"])
    # THEN the summaries are neutral tokens, never the address or link itself
    assert "[email]" in summaries[0] and "example" not in summaries[0]
    assert summaries[1] == "[link]"


@pytest.mark.slow
def test_pathological_tickets_still_get_a_short_non_empty_summary(
    encoder: Encoder, summarizer: ExtractiveSummarizer
) -> None:
    # GIVEN a 5,000-character run without a space, punctuation only, and a token blob
    texts = ["x" * 5_000, "!!!", "token eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0 fails"]
    # WHEN summarized
    summaries = _summarize(encoder, summarizer, texts)
    # THEN each is non-empty and short; a blob is dropped from a real sentence
    assert all(summary and len(summary) <= 200 for summary in summaries), summaries
    assert summaries[1] == "!!!"
    assert "eyJ" not in summaries[2]


@pytest.mark.slow
def test_summarizer_is_the_protocol_and_refuses_a_mismatched_batch(encoder: Encoder) -> None:
    # GIVEN the default summarizer
    summarizer = ExtractiveSummarizer()
    # THEN it implements the Summarizer protocol, with a version
    assert isinstance(summarizer, Summarizer)
    assert summarizer.version.startswith("extractive-")
    # AND texts that were not the ones encoded are refused
    with pytest.raises(ValueError):
        summarizer.summarize(["a", "b"], encoder.encode(["a"]))


# --- the pieces -------------------------------------------------------------------------------


def _sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in split_sentences(text)]


def test_splitter_keeps_abbreviations_versions_and_decimals_together() -> None:
    # GIVEN abbreviations, a version number, a decimal and an initial
    text = "Mr. Smith said e.g. v1.2 costs 3.5 dollars per user. J. Doe disagrees! Why? Dr. Who knows etc. Fine."
    # THEN only real sentence ends split
    assert _sentences(text) == [
        "Mr. Smith said e.g. v1.2 costs 3.5 dollars per user.",
        "J. Doe disagrees!",
        "Why?",
        "Dr. Who knows etc.",
        "Fine.",
    ]


def test_splitter_splits_lines_and_bullets_and_tweets() -> None:
    # GIVEN a bullet list, a numbered list, blank lines and a tweet with an emoji break
    text = "Problems:\n- login broken\n* export slow\n2) billing wrong\n\n@Acme help me 😢 It's urgent... really urgent"
    # THEN each line is a sentence, bullets are trimmed, the emoji before a capital splits
    assert _sentences(text) == [
        "Problems:",
        "login broken",
        "export slow",
        "billing wrong",
        "@Acme help me 😢",
        "It's urgent... really urgent",
    ]


def test_clean_sentence_removes_noise_and_pii() -> None:
    # GIVEN sentences with greetings, handles, links, hashtags, emoji, e-mails, phones, sign-offs
    cases = {
        "@AmazonHelp hi there, my parcel never arrived 😡 https://t.co/x #fail": "My parcel never arrived",
        "Hello Dropbox support, my files vanished. Thanks!": "My files vanished.",
        "So also my flight is late, thanks": "My flight is late",
        "A dark mode would be great, my eyes would thank you.": "A dark mode would be great, my eyes would thank you.",
        "write to jane.doe@example.org or +1 (555) 123-4567": "Write to [email] or [phone]",
        "Flight DL1691 at 16:03 on 18/11/2017 is late": "Flight DL1691 at 16:03 on 18/11/2017 is late",
        "Hi": "",
    }
    # THEN what is left is the customer's content
    for raw, expected in cases.items():
        assert clean_sentence(raw) == expected


def test_shorten_cuts_at_a_clause_boundary_and_never_on_a_dangling_word() -> None:
    # GIVEN a 40-word sentence with clause boundaries
    words = shorten(_LONG_SENTENCE, 25)
    # THEN it is cut to at most 25 words, before "and"/"but", without a dangling word
    assert count_words(words) <= 25
    assert _LONG_SENTENCE.startswith(words)
    assert words.split()[-1].lower() not in {"and", "the", "but", "to"}
    # AND a short sentence is untouched
    assert shorten("The app crashes.", 25) == "The app crashes."


def test_frame_attributes_without_changing_meaning() -> None:
    # GIVEN first-person sentences and a third-person one
    # THEN "I" becomes "Customer" with the verb agreeing, else a "Customer:" prefix
    assert frame("I can't log in", "rewrite") == "Customer can't log in"
    assert frame("I'm locked out of my account", "rewrite") == "Customer is locked out of their account"
    assert frame("I need a refund", "rewrite") == "Customer needs a refund"
    assert frame("I really wish it worked", "rewrite") == "Customer: I really wish it worked"
    assert frame("The app crashes", "rewrite") == "Customer: The app crashes"
    assert frame("The app crashes", "none") == "The app crashes"


# --- ROUGE-1 and the evaluation -----------------------------------------------------------------


def test_rouge1_matches_hand_computed_values() -> None:
    # GIVEN a candidate whose 3 tokens all occur in a 6-token reference
    # THEN P = 3/3, R = 3/6, F1 = 2 * 1 * 0.5 / 1.5
    p, r, f = rouge1("The cat sat", "the cat sat on the mat")
    assert (p, r) == (1.0, 0.5)
    assert f == pytest.approx(2 / 3)
    # AND counts are clipped: "the" x3 against one "the" overlaps once (P 1/3, R 1/2, F 0.4)
    assert rouge1("the the the", "the cat")[2] == pytest.approx(0.4)
    # AND case and punctuation do not matter; "can't" is "can" + "t"; no stemming
    assert rouge1("Can't log-in!", "can t log in")[2] == 1.0
    assert rouge1("logging", "logged")[2] == 0.0
    # AND nothing in common, or an empty side, is 0
    assert rouge1("", "a b")[2] == 0.0
    assert rouge1("x y", "a b")[2] == 0.0


def test_rouge1_over_several_references_reports_max_and_mean() -> None:
    # GIVEN references scoring F1 1.0 and 0.0 for the candidate
    best, mean = rouge1_f("login broken", ["login broken", "refund please"])
    # THEN the max is 1.0 and the mean 0.5
    assert (best, mean) == (1.0, 0.5)


def test_baseline_is_the_first_sentence_without_handles_or_links() -> None:
    # GIVEN a tweet thread
    # THEN the baseline is its first sentence, handles and links removed, at most 25 words
    assert first_sentence_baseline("@Delta my flight is late. Help https://t.co/x") == "my flight is late."
    assert len(first_sentence_baseline(" ".join(["w"] * 60)).split()) == 25


def _write_dialogues(path: Path) -> None:
    rows = [
        {
            "conversation_id": f"c{i}",
            "tweetsumm_split": "train",
            "turns": [
                {"role": "Customer", "text": "@Acme my order never arrived. It was due Monday."},
                {"role": "it was a gift", "text": ""},  # a continuation line parsed as a turn
                {"role": "Agent", "text": "@123 Sorry! Can you DM us the order number? ^AB"},
                {"role": "Customer", "text": "@Acme done"},
            ],
            "abstractive_summaries": [
                ["Customer says the order never arrived.", "Agent asks for the order number."],
                ["Customer complains about a missing order."],
            ],
        }
        for i in range(6)
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")


def test_load_tweetsumm_takes_customer_turns_and_first_sentences(tmp_path: Path) -> None:
    # GIVEN a small TweetSumm-shaped file (written here, not the real data)
    path = tmp_path / "dialogues.jsonl"
    _write_dialogues(path)
    # WHEN loaded
    dialogues = load_tweetsumm(path, "all")
    # THEN the body is the customer's turns (continuation glued back, agent left out)
    assert dialogues[0].body == "@Acme my order never arrived. It was due Monday.\nit was a gift\n@Acme done"
    assert dialogues[0].references == (
        "Customer says the order never arrived.", "Customer complains about a missing order."
    )
    # AND dev and test partition the file
    dev, test = load_tweetsumm(path, "dev"), load_tweetsumm(path, "test")
    assert len(dev) + len(test) == 6
    assert {d.conversation_id for d in dev}.isdisjoint(d.conversation_id for d in test)


@pytest.mark.slow
def test_eval_summary_command_prints_ours_and_the_baseline(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN the eval-summary subcommand and a small dialogue file
    path = tmp_path / "dialogues.jsonl"
    _write_dialogues(path)
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    args = parser.parse_args(["eval-summary", "--data", str(path), "--split", "all"])
    # WHEN it runs
    assert args.func(args) == 0
    out = capsys.readouterr().out
    # THEN it reports ROUGE-1 (max and mean), words and faithfulness for ours and the baseline
    for label in ("ROUGE-1 F1, max over refs", "ROUGE-1 F1, mean over refs", "mean words", "max words",
                  "% every word in source"):
        assert label in out
    assert "ours" in out and "baseline" in out
