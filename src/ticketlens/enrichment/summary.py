"""The one-line summary: one faithful sentence (at most 25 words) saying what the customer needs.

The default, :class:`ExtractiveSummarizer`, never invents a fact: it picks one sentence of
the customer's own words, cleans it (greetings, sign-offs, signatures, @handles, URLs, emoji
removed; e-mail addresses and phone numbers replaced by neutral tokens) and, when it is too
long, cuts it at a clause boundary. The only words it may add are the fixed attribution
frame (``Customer ...``, see :data:`FRAMING_WORDS`) and the PII tokens
(:data:`PLACEHOLDER_WORDS`).

Sentences are scored by a linear model over cheap features: position, content-word count,
need/problem and complaint cue words, question marks, length, greeting/pleasantry
penalties, and the cosine of the sentence with the ticket embedding. That cosine costs no
second encoder pass: the encoder's per-token states for the whole ticket are mean-pooled
over each sentence's character span (plain numpy). The weights were tuned on the dev half of
TweetSumm (``ticketlens eval-summary --tune``, see ``docs/summary.md``); there the cosine
earned no weight (the customer states the need early, and position plus content words pick
it better), so by default the pooling is skipped; a weight set that uses it turns it back on.

Any other backend (an abstractive model, say) implements :class:`Summarizer` and drops in.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

import numpy as np

from ticketlens.models.encoder import Encoded

__all__ = [
    "DEFAULT_WEIGHTS",
    "FEATURES",
    "FRAMING_WORDS",
    "MAX_SUMMARY_WORDS",
    "PLACEHOLDER_WORDS",
    "Candidate",
    "ExtractiveSummarizer",
    "Summarizer",
    "clean_sentence",
    "count_words",
    "frame",
    "is_pleasantry",
    "shorten",
    "split_sentences",
]

MAX_SUMMARY_WORDS = 25
MAX_SCAN_CHARS = 4000  # the encoder sees 256 tokens, roughly the first 1,000-1,500 characters
MAX_CANDIDATES = 40

# --- what gets removed from the customer's words (PII and noise) ------------------------
# A summary never repeats a link, a handle, an e-mail address or a phone number: links and
# handles are dropped, addresses and numbers become "[email]" / "[phone]" (they are often
# the object of the sentence: "move my account from [email] to [email]").
URL_RE = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
HANDLE_RE = re.compile(r"(?<![\w@])@\w+(?:['’]s\b)?")
# Phone numbers: 9 to 15 digits with the usual separators (dates, times and flight numbers
# have fewer digits or other separators and stay).
PHONE_RE = re.compile(r"(?<![\w+])\+?\(?\d[\d\s().-]{7,18}\d(?!\w)")
HASHTAG_RE = re.compile(r"(?<![\w#])#\w+")
MAX_WORD_CHARS = 40
LONG_TOKEN_RE = re.compile(rf"\S{{{MAX_WORD_CHARS + 1},}}")  # blobs, hashes, tracking ids
AGENT_SIGNATURE_RE = re.compile(r"(?<!\w)\^\w{1,4}\b")  # "^TJ" initials from social care teams
# "(1/2)", "2-of-2 -" at either end of a tweet
THREAD_MARKER_RE = re.compile(
    r"^\(?\d{1,2}\s*(?:/|of|-of-)\s*\d{1,2}\)?\s*[-:.]?\s+|\s*\(?\b\d{1,2}\s*(?:/|of|-of-)\s*\d{1,2}\)?\s*$"
)
# Emoji, pictographs, dingbats, variation selectors, zero-width joiners, skin tones.
EMOJI_RE = re.compile(
    "[\U0001f000-\U0001faff\U00002600-\U000027bf\U0001f1e6-\U0001f1ff"
    "\U00002300-\U000023ff\U00002b00-\U00002bff\ufe0e\ufe0f\u200d\u20e3]+"
)
BULLET_RE = re.compile(r"^\s*(?:[-*•·▪►>]+|\(?\d{1,2}[.)]|\(?[a-zA-Z][)])\s+")

# --- greetings, sign-offs and pleasantries ----------------------------------------------
GREETING_WORDS = (
    "hi+", "he+l+o+", "he+y+", "hiya", "heya", "hai", "hola", "howdy", "dear", "greetings",
    "good morning", "good afternoon", "good evening", "good day", "morning", "yo",
)  # fmt: skip  (regular expressions: "Helloooo", "Heyyy")
GREETING_ADDRESSEES = (
    "there", "team", "all", "guys", "folks", "everyone", "everybody", "support", "sir", "madam",
    "sir/madam", "y'all", "friends", "again",
)  # fmt: skip
SIGNOFF_WORDS = (
    "thanks", "thank you", "thx", "ty", "tia", "cheers", "regards", "best", "kind regards",
    "best regards", "warm regards", "sincerely", "many thanks", "thanks in advance",
    "thank you in advance", "much appreciated", "appreciate it",
)  # fmt: skip
# A sentence made only of one of these says nothing about the need.
PLEASANTRY_PATTERNS = (
    r"(i |we )?(really |do |just )?ho+pe (you|u|you're|youre|you are|this|all|everyone|it)\b",
    r"how are (you|u)\b",
    r"(have|enjoy) a (nice|good|great|lovely) (day|weekend|evening)",
    r"(thanks?|thx|ty)( you)?( so much| a lot| very much)?( for|,| in advance| again|!|\.|$)",
    r"(any|your) help (would be|is|will be) (much |greatly |really )?appreciated",
    r"looking forward to",
    r"(i |we )?(really |absolutely )?love (the|your|this) (app|product|service|tool|site|platform)\b",
    r"keep up the (good|great|amazing) work",
    r"(you guys|you|your team) (are|is|rock)\b",
    r"(please )?let me know",
    r"sent from my",
    r"(kind |best |warm )?regards",
    r"(i )?appreciate (it|your|the)",
    r"(ok|okay|alright|sure|great|perfect|cool|awesome|no worries|np|yes|no|yep|nope)\b[\s!.]*$",
    r"(will do|done|dm sent|sent|followed|just did)\b[\s!.]*",
)
PLEASANTRY_RE = re.compile(r"^(?:" + "|".join(PLEASANTRY_PATTERNS) + ")", re.IGNORECASE)
# Discourse fillers at the start of a sentence ("So I ...", "Also my flight ...").
LEADING_FILLER_RE = re.compile(
    r"^(?:(?:so|also|and|but|well|ok|okay|oh|um+|uh+|btw|fyi|ps|p\.s\.|just fyi|anyway|lol)\b[\s,:;-]*"
    r"|(?:yes|yeah|yep|yup|nope|no|nah)\s*[,!.]+\s*)+",
    re.IGNORECASE,
)

# --- what the customer needs ------------------------------------------------------------
# Words and phrases that mark the problem or the request, matched as whole words on the
# lowercased sentence ("fail" also matches "failed"/"failing": stems end in "*").
NEED_CUES = (
    "can't", "can’t", "cant", "cannot", "can not", "couldn't", "couldn’t", "unable", "not able",
    "won't", "won’t", "wont", "doesn't", "doesn’t", "doesnt", "didn't", "didn’t", "didnt",
    "isn't", "isn’t", "isnt", "not working", "stopped", "no longer", "keeps", "keep getting",
    "error*", "issue*", "problem*", "broken", "fail*", "crash*", "bug*", "help", "need*", "want*",
    "would like", "trying to", "how do", "how can", "how to", "why", "refund*", "cancel*",
    "charg*", "missing", "never received", "haven't received", "not received", "wrong", "lost",
    "stuck", "locked", "access", "login", "log in", "delay*", "waiting", "fix", "reset",
    "still no", "still not", "still haven't", "still waiting", "never arrived", "never showed up",
)  # fmt: skip
COMPLAINT_CUES = (
    "worst", "terrible", "horrible", "awful", "ridiculous", "unacceptable", "disappoint*",
    "rude", "poor", "useless", "joke", "annoying", "frustrat*", "angry", "disgust*", "pathetic",
    "shocking", "appalling", "never again", "fed up",
)  # fmt: skip


def _cue_re(cues: Sequence[str]) -> re.Pattern[str]:
    alternatives = sorted((re.escape(c.rstrip("*")) + (r"\w*" if c.endswith("*") else "") for c in cues), key=len)
    return re.compile(r"(?<!\w)(?:" + "|".join(reversed(alternatives)) + r")(?!\w)")


# How the customer feels, not what happened: a sentence made of these and nothing the
# customer needs ("I AM BEYOND FRUSTRATED!!!", "Worst service ever.") is the loudest line of
# a ticket, rarely the one that says what is wrong.
EMOTION_CUES = (
    *COMPLAINT_CUES, "unbelievable", "argh*", "ugh*", "upset", "stressed", "desperate", "furious", "livid",
    "not happy", "sick of", "had enough", "fuming", "outrageous", "disgrace*", "nightmare", "wtf", "omg",
)  # fmt: skip
NEED_CUE_RE = _cue_re(NEED_CUES)
COMPLAINT_CUE_RE = _cue_re(COMPLAINT_CUES)
EMOTION_CUE_RE = _cue_re(EMOTION_CUES)
# what a sentence must hold besides emotion to state a problem: a need cue other than "help"
_PROBLEM_CUE_RE = _cue_re(tuple(c for c in NEED_CUES if c not in {"help", "need*", "want*"}))
# "Re: Can't log in", "Fwd: Invoice": a reply's subject is the thread's old title, not the news
REPLY_SUBJECT_RE = re.compile(r"^\s*(?:(?:re|fwd?|aw|tr|sv|antw)\s*(?:\[\d+\])?\s*:\s*)+", re.IGNORECASE)
# Words that carry no content of their own (for the "content" feature).
FUNCTION_WORDS = frozenset(
    ["a", "an", "the", "and", "or", "but", "so", "to", "of", "for", "with", "in", "on", "at", "by", "from", "as", "is",
     "are", "was", "were", "be", "been", "being", "am", "i", "me", "my", "we", "our", "us", "you", "your", "u", "ur",
     "he", "she", "it", "its", "they", "them", "their", "this", "that", "these", "those", "there", "here", "what",
     "which", "who", "whom", "when", "where", "why", "how", "all", "any", "both", "each", "more", "most", "other",
     "some", "such", "no", "nor", "not", "only", "own", "same", "than", "too", "very", "can", "will", "just", "don",
     "should", "now", "do", "does", "did", "have", "has", "had", "would", "could", "im", "it's", "get", "got", "please",
     "thanks", "thank", "hi", "hello", "hey", "yes", "ok", "okay", "also", "still", "even", "really", "already", "back",
     "again", "guys", "anyone", "someone", "something", "anything", "help", "know", "let", "need", "want", "one"]
)

# Abbreviations whose final period does not end a sentence; the "weak" ones do when the
# next word starts with a capital ("... etc. Then").
STRONG_ABBREVIATIONS = frozenset(
    ["mr", "mrs", "ms", "dr", "prof", "st", "jr", "sr", "vs", "e.g", "i.e", "eg", "ie", "approx", "fig", "inc", "ltd",
     "corp", "dept", "est", "ref", "cf", "viz"]
)
WEAK_ABBREVIATIONS = frozenset(
    ["etc", "a.m", "p.m", "am", "pm", "u.s", "u.k", "co", "acct", "no", "nos", "tel", "ext", "min", "max"]
)
# Clause boundaries a long sentence may be cut before (the cut keeps what precedes).
CLAUSE_WORDS = frozenset(
    ["but", "and", "because", "so", "which", "since", "although", "though", "while", "whereas", "when", "as", "however",
     "or", "then", "yet", "unless", "until", "after", "before", "if"]
)
# Words a cut must not end on.
DANGLING_WORDS = frozenset(
    ["a", "an", "the", "and", "or", "but", "so", "to", "of", "for", "with", "in", "on", "at", "by", "from", "as", "is",
     "are", "was", "were", "be", "been", "my", "your", "our", "their", "his", "her", "its", "this", "that", "these",
     "those", "which", "who", "because", "since", "if", "when", "while", "than", "i", "we", "you", "they", "he", "she",
     "it", "not", "no", "very", "just", "also"]
)

# --- the attribution frame ("Customer ...") ---------------------------------------------
Framing = Literal["none", "prefix", "rewrite"]
# "I'm locked out" -> "Customer is locked out"; anything else -> "Customer: <their words>".
# These are the only words a summary may contain that the ticket does not.
# Present-tense verbs a customer leads with ("I need ..." -> "Customer needs ...").
_AGREEING_VERBS = (
    "need", "want", "keep", "get", "receive", "see", "think", "feel", "use", "own", "live", "order", "pay"
)
_I_REWRITES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), replacement)
    for pattern, replacement in (
        (r"^i\s*['’]?m\b", "Customer is"),
        (r"^i am\b", "Customer is"),
        (r"^i\s*['’]ve\b", "Customer has"),
        (r"^i have\b", "Customer has"),
        (r"^i\s*['’]ll\b", "Customer will"),
        (r"^i was\b", "Customer was"),
        (r"^i do not\b", "Customer does not"),
        (r"^i don['’]?t\b", "Customer doesn't"),
        (r"^i do\b", "Customer does"),
        # modal and past-tense verbs take no agreement
        (
            r"^i (?=(?:(?:just|still|also|never|recently|already|really|even|only|then)\s+)?"
            r"(?:can|can't|can’t|cant|cannot|could|couldn't|couldn’t|will|won't|won’t|would|"
            r"wouldn't|wouldn’t|should|shouldn't|shouldn’t|must|might|may|did|didn't|didn’t|had|"
            r"hadn't|hadn’t|was|wasn't|wasn’t|got|paid|bought|made|sent|sold|lost|left|took|went|"
            r"came|gave|found|heard|saw|told|said|thought|spent|put|kept|"
            r"(?!need|feed|speed|proceed|succeed|exceed)[a-z]+ed)\b)",
            "Customer ",
        ),
        # a few present-tense verbs that customers lead with: add the third-person -s
        (r"^i (" + "|".join(_AGREEING_VERBS) + r")\b", r"Customer \1s"),
        (r"^i try\b", "Customer tries"),
        (r"^i wish\b", "Customer wishes"),
    )
)
# The neutral tokens that stand in for removed PII ("[email]", "[phone]"; links and handles
# are dropped without a trace).
PLACEHOLDER_WORDS = frozenset({"email", "phone", "link", "handle"})
FRAMING_WORDS = frozenset(
    {"customer", "is", "has", "will", "was", "does", "doesn", "t", "their", "tries", "wishes"}
    | {verb + "s" for verb in _AGREEING_VERBS}
)
_MY_RE = re.compile(r"\bmy\b", re.IGNORECASE)
# a first-person subject or object after the sentence's first word
_LATER_I_RE = re.compile(r"^\S+.*?\b(?:I|I['’](?:m|ve|ll|d)|me|myself)\b", re.IGNORECASE)

# --- scoring ------------------------------------------------------------------------------
FEATURES = (
    "cos_doc",  # cosine of the pooled sentence vector with the ticket embedding
    "early",  # 1 / (1 + rank), rank among the non-pleasantry sentences: the need comes early
    "line_start",  # starts a line (a tweet, a paragraph, a subject line)
    "cue",  # need/problem cue words, capped at 3, 0..1
    "complaint",  # complaint words, capped at 2, 0..1
    "question",  # contains a question mark
    "content",  # content words (not function words), capped at 8, 0..1: vague lines score low
    "length",  # words, capped at the target length, 0..1
    "short",  # shortfall below 6 words, 0..1
    "pleasantry",  # a greeting, sign-off, pleasantry or one-word reply
    "emotion",  # feelings only (frustrated, worst, unbelievable) and no problem or request
    "shouting",  # mostly capitals: loud, not informative
    "reply_subject",  # the "Re:"/"Fwd:" subject line of a reply: the thread's title, not the news
)
# Tuned by `ticketlens eval-summary --tune` on the dev split (docs/summary.md).
DEFAULT_WEIGHTS: Mapping[str, float] = {
    "cos_doc": 0.0,
    "early": 1.0,
    "line_start": 0.0,
    "cue": 0.25,
    "complaint": 0.25,
    "question": 0.0,
    "content": 1.0,
    "length": 0.0,
    "short": -1.0,
    "pleasantry": -3.0,
    # set by principle, not tuned (TweetSumm has few such sentences; docs/summary.md):
    # a feeling loses to a stated problem, a reply's subject to the reply
    "emotion": -1.0,
    "shouting": -0.5,
    "reply_subject": -1.5,
}


@runtime_checkable
class Summarizer(Protocol):
    """Anything that turns a batch of ticket texts into one-line summaries.

    ``encoded`` is the encoder's output for exactly these texts (one pass, shared with the
    classifier heads); a backend that needs no token states may ignore it.
    """

    version: str

    def summarize(self, texts: Sequence[str], encoded: Encoded) -> list[str]: ...


@dataclass(frozen=True)
class Candidate:
    """One sentence of a ticket: where it is, what it would print as, and its features."""

    start: int
    end: int
    text: str  # cleaned, not yet shortened or framed
    features: np.ndarray  # in FEATURES order


# --- words ----------------------------------------------------------------------------------
_ALNUM_RE = re.compile(r"[a-z0-9]+")


def count_words(text: str) -> int:
    """Words as a reader counts them or as ROUGE does, whichever is more (the cap holds for both)."""
    return max(len(text.split()), len(_ALNUM_RE.findall(text.lower())))


# --- sentence splitting -------------------------------------------------------------------
_TERMINATOR_RE = re.compile(
    r"(?:[.!?]+|…|" + EMOJI_RE.pattern + r")[\"'”’)\]]*(?=\s|$)"
)


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences of ``text``, in order, whitespace and bullets trimmed.

    Lines are split first (tickets use newlines for lists, signatures and tweets), then
    sentence punctuation followed by whitespace ends a sentence, except after abbreviations
    ("Mr.", "e.g.") and initials. Versions and decimals ("v1.2", "3.5") never split: their
    period is not followed by whitespace. An ellipsis or emoji ends a sentence only when a
    capital follows.
    """
    spans: list[tuple[int, int]] = []
    line_start = 0
    for line in text.split("\n"):
        line_end = line_start + len(line)
        bullet = BULLET_RE.match(line)
        cursor = line_start + (bullet.end() if bullet else 0)
        for match in _TERMINATOR_RE.finditer(text, cursor, line_end):
            if _is_boundary(text, match, line_end):
                _add_span(text, cursor, match.end(), spans)
                cursor = match.end()
        _add_span(text, cursor, line_end, spans)
        line_start = line_end + 1
    return spans


def _is_boundary(text: str, match: re.Match[str], line_end: int) -> bool:
    rest = text[match.end() : line_end].lstrip()
    if not rest:
        return True
    mark = match.group()
    next_upper = rest[0].isupper() or rest[0].isdigit() or rest[0] in "\"'“‘@#"
    if mark[0] not in ".!?" or mark.startswith(".."):  # emoji or ellipsis: often mid-thought
        return next_upper
    if mark[0] in "!?":
        return True
    word_start = match.start()
    while word_start > 0 and not text[word_start - 1].isspace():
        word_start -= 1
    word = text[word_start : match.start()].lower().lstrip("(\"'")
    if word in STRONG_ABBREVIATIONS:
        return False
    if word in WEAK_ABBREVIATIONS:
        return next_upper and not rest[0].isdigit()
    initial = len(word) == 1 and word.isalpha() and word != "i" and rest[0].isupper()  # "J. Smith"
    return not initial


def _add_span(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        spans.append((start, end))


# --- cleaning -------------------------------------------------------------------------------
_ADDRESSEE = r"(?i:" + "|".join(re.escape(w) for w in sorted(GREETING_ADDRESSEES, key=len, reverse=True)) + r")\b"
# "Hi", "Hello there", "Hey Dropbox support,", "Dear Sir/Madam:" -- a name is up to two
# capitalised words ("I" is never one), so "Hi my order ..." keeps "my order ...".
_GREETING_RE = re.compile(
    r"^(?i:" + "|".join(GREETING_WORDS) + r")\b"
    r"(?:\s*,?\s*" + _ADDRESSEE + r")?"
    r"(?:\s+(?!I\b|I['’])[A-Z][\w'’&.-]*){0,2}"
    r"(?:\s+" + _ADDRESSEE + r")?"
    r"\s*[,!:;.\-–—]*\s*"
)
_SIGNOFF_TAIL_RE = re.compile(
    # a sign-off after punctuation ("..., thanks!"), never the end of a clause ("would thank you")
    r"(?:(?<=[,;:.!?])|\s[-–—])\s*\b(?:" + "|".join(SIGNOFF_WORDS) + r")\b"
    r"(?:\s+(?:so much|a lot|again|very much|in advance))?"
    r"(?:[\s,!.-]+[A-Z][\w.]*(?:\s+[A-Z][\w.]*)?)?[\s!.]*$",
    re.IGNORECASE,
)
_GREETING_ONLY_RE = re.compile(r"^(?:" + "|".join(GREETING_WORDS) + r")(?:\s+\S+)?$")
_SPACE_RE = re.compile(r"\s+")
_LONE_I_RE = re.compile(r"(?<![\w'’])i(?=\s|['’](?:m|ve|ll|d)\b)")
_SPACE_BEFORE_PUNCT_RE = re.compile(r"\s+([?.!,;:](?:\s|$))")
_EDGE_PUNCT = " ,;:-–—/|&+*~_"


def clean_sentence(sentence: str) -> str:
    """The sentence as a summary may print it: no links, addresses, handles, emoji, greeting or sign-off."""
    s = LONG_TOKEN_RE.sub(" ", html.unescape(sentence))  # first: keeps the other patterns linear
    s = URL_RE.sub(" ", s)
    s = EMAIL_RE.sub(" [email] ", s)
    s = HANDLE_RE.sub(" ", s)
    s = PHONE_RE.sub(_phone_token, s)
    s = HASHTAG_RE.sub(" ", s)
    s = AGENT_SIGNATURE_RE.sub(" ", s)
    s = EMOJI_RE.sub(" ", s)
    s = _SPACE_BEFORE_PUNCT_RE.sub(r"\1", _SPACE_RE.sub(" ", s)).strip(_EDGE_PUNCT)
    s = THREAD_MARKER_RE.sub("", s).strip(_EDGE_PUNCT)
    for _ in range(2):  # "Hi team, so ..." -> "..."
        s = _GREETING_RE.sub("", s, count=1).lstrip(_EDGE_PUNCT)
        s = LEADING_FILLER_RE.sub("", s, count=1).lstrip(_EDGE_PUNCT)
    tail = _SIGNOFF_TAIL_RE.search(s)
    if tail and tail.start() > 0:
        s = s[: tail.start()]
    s = s.strip(_EDGE_PUNCT)
    # a bracket or quote left open by the removals
    if s.count("(") != s.count(")"):
        s = s.replace("(", "").replace(")", "")
    if s.count('"') % 2:
        s = s.replace('"', "")
    s = _LONE_I_RE.sub("I", s)
    return s[:1].upper() + s[1:] if s else s


def _phone_token(match: re.Match[str]) -> str:
    return " [phone] " if 9 <= sum(c.isdigit() for c in match.group()) <= 15 else match.group()


def _content_words(low: str) -> list[str]:
    return [w for w in _ALNUM_RE.findall(low) if w not in FUNCTION_WORDS and len(w) > 1]


def is_pleasantry(cleaned: str) -> bool:
    """A sentence that is only a pleasantry, a sign-off, a greeting or a one-word reply."""
    if not _ALNUM_RE.search(cleaned.lower()):
        return True
    match = PLEASANTRY_RE.match(cleaned)
    if match:
        # "I love this product but the update deleted my templates" states a problem
        return not _PROBLEM_CUE_RE.search(cleaned[match.end() :].lower())
    low = cleaned.lower().strip(" .!?,")
    return low in SIGNOFF_WORDS or bool(_GREETING_ONLY_RE.match(low))


def shorten(sentence: str, max_words: int = MAX_SUMMARY_WORDS, min_words: int = 6) -> str:
    """Cut a long sentence to ``max_words`` at the last clause boundary that keeps ``min_words``.

    Boundaries are ``, ; : ( -`` and clause words ("but", "because", "which", ...); with
    none in reach the cut is a hard one, never ending on a dangling function word.
    """
    if count_words(sentence) <= max_words:
        return sentence
    words = sentence.split()
    kept: list[str] = []
    total = 0
    for word in words:
        total += max(1, len(_ALNUM_RE.findall(word.lower())))
        if total > max_words:
            break
        kept.append(word)
    best = 0
    for i in range(1, len(kept) + 1):
        if i < min_words:
            continue
        ends_clause = kept[i - 1][-1:] in ",;:)" or (i < len(words) and words[i].lower() in CLAUSE_WORDS)
        ends_clause = ends_clause or (i < len(words) and words[i] in {"-", "–", "—"})
        if ends_clause:
            best = i
    cut = kept[:best] if best else kept
    while len(cut) > 1 and cut[-1].lower().strip(",;:.!?-") in DANGLING_WORDS:
        cut = cut[:-1]
    return " ".join(cut).rstrip(_EDGE_PUNCT)


def frame(summary: str, framing: Framing, max_words: int = MAX_SUMMARY_WORDS) -> str:
    """Attribute the customer's words to the customer, without changing what they say.

    ``rewrite``: a sentence-initial "I" becomes "Customer" with the verb agreeing
    ("I can't log in" -> "Customer can't log in", "I'm locked out" -> "Customer is locked
    out") and "my" becomes "their"; any other sentence is prefixed "Customer: ".
    ``prefix``: always "Customer: ". ``none``: the words as they are.
    """
    if framing == "none" or not summary:
        return summary
    framed = None
    # rewritten only when the customer speaks of themselves once: "Customer moved house and
    # I need ..." would mix persons, so such a sentence keeps its words behind the prefix
    if framing == "rewrite" and not _LATER_I_RE.search(summary):
        for pattern, replacement in _I_REWRITES:
            if pattern.match(summary):
                framed = pattern.sub(replacement, summary, count=1)
                framed = _MY_RE.sub("their", framed)
                break
    if framed is None:
        framed = "Customer: " + summary[:1].upper() + summary[1:]
    if count_words(framed) > max_words:
        framed = shorten(framed, max_words)
    return framed


# --- the default summarizer -----------------------------------------------------------------
class ExtractiveSummarizer:
    """Picks the customer's need sentence, scored from pooled token states and cue words.

    Never invents a fact: the output is one cleaned (and possibly shortened) sentence from
    the ticket, framed as the customer's (see :func:`frame`). Never empty for a ticket with
    text: when every sentence is noise, the cleaned first sentence, or the raw text's
    first words, stand in.
    """

    def __init__(
        self,
        weights: Mapping[str, float] | None = None,
        *,
        max_words: int = MAX_SUMMARY_WORDS,
        target_words: int = MAX_SUMMARY_WORDS,
        framing: Framing = "rewrite",
    ) -> None:
        merged = {**DEFAULT_WEIGHTS, **(weights or {})}
        unknown = set(merged) - set(FEATURES)
        if unknown:
            raise ValueError(f"unknown summary features {sorted(unknown)}")
        self.weights = np.array([merged[name] for name in FEATURES], dtype=np.float32)
        self.max_words = max_words
        self.target_words = min(target_words, max_words)
        self.framing: Framing = framing
        self.version = f"extractive-3-{framing}"

    def summarize(self, texts: Sequence[str], encoded: Encoded) -> list[str]:
        """One summary per text, in order."""
        if len(texts) != len(encoded.token_states):
            raise ValueError("encoded does not match texts: encode exactly these texts first")
        return [self.summarize_one(text, encoded, i) for i, text in enumerate(texts)]

    def summarize_one(self, text: str, encoded: Encoded, index: int) -> str:
        """The summary of ``text``, which is ``encoded``'s text number ``index``."""
        candidates = self.candidates(text, encoded, index)
        if not candidates:
            return self._fallback(text)
        scores = np.stack([c.features for c in candidates]) @ self.weights
        return self.render(candidates[int(np.argmax(scores))])

    def render(self, candidate: Candidate) -> str:
        """A chosen sentence as printed: cut to length, then framed."""
        return frame(shorten(candidate.text, self.target_words), self.framing, self.max_words)

    def candidates(
        self, text: str, encoded: Encoded, index: int, *, with_vectors: bool | None = None
    ) -> list[Candidate]:
        """The ticket's sentences, cleaned, each with its features (FEATURES order).

        Only the first ``MAX_SCAN_CHARS`` are read (the need comes early, and the encoder saw
        no more than 256 tokens anyway). Sentence vectors are pooled only when ``cos_doc``
        carries weight, or when ``with_vectors`` asks (tuning).
        """
        spans = split_sentences(text[:MAX_SCAN_CHARS])[:MAX_CANDIDATES]
        kept: list[tuple[int, int, str, bool, bool, bool]] = []
        previous_end = -1
        first_line_end = text.find("\n")
        for start, end in spans:
            line_start = previous_end < 0 or "\n" in text[previous_end:start]
            previous_end = end
            if kept and line_start and _starts_signature(text, start, end):
                break
            raw = text[start:end]
            reply = bool(REPLY_SUBJECT_RE.match(raw)) and first_line_end > 0 and start < first_line_end
            cleaned = clean_sentence(REPLY_SUBJECT_RE.sub("", raw) if reply else raw)
            if not _ALNUM_RE.search(cleaned.lower()):
                continue  # punctuation or nothing left
            kept.append((start, end, cleaned, line_start, is_pleasantry(cleaned), reply))
        if not kept:
            return []
        # "early" counts only sentences that say something: greetings do not push the need down
        rank = np.cumsum([0] + [not pleasantry for *_, pleasantry, _ in kept])[:-1]
        if with_vectors is None:
            with_vectors = bool(self.weights[FEATURES.index("cos_doc")] != 0)
        cos_doc = np.zeros(len(kept), dtype=np.float32)
        if with_vectors:
            vectors, has_vector = _pool(
                encoded.token_states[index], encoded.offsets[index], [(s, e) for s, e, *_ in kept]
            )
            cos_doc = vectors @ encoded.embeddings[index]
            if has_vector.any():  # sentences past the truncation: no better than the worst seen
                cos_doc = np.where(has_vector, cos_doc, cos_doc[has_vector].min())
        out: list[Candidate] = []
        for i, (start, end, cleaned, line_start, pleasantry, reply) in enumerate(kept):
            low = cleaned.lower()
            words = count_words(cleaned)
            letters = [ch for ch in cleaned if ch.isalpha()]
            upper = sum(ch.isupper() for ch in letters) / len(letters) if len(letters) >= 4 else 0.0
            # feelings and at most two other content words: nothing the agent could act on
            emotion = (
                bool(EMOTION_CUE_RE.search(low))
                and not _PROBLEM_CUE_RE.search(low)
                and len(_content_words(EMOTION_CUE_RE.sub(" ", low))) <= 2
            )
            features = np.array(
                [
                    cos_doc[i],
                    1.0 / (1 + rank[i]),
                    1.0 if line_start else 0.0,
                    min(3, len(NEED_CUE_RE.findall(low))) / 3,
                    min(2, len(COMPLAINT_CUE_RE.findall(low))) / 2,
                    1.0 if "?" in cleaned else 0.0,
                    min(8, len(_content_words(low))) / 8,
                    min(words, self.target_words) / self.target_words,
                    max(0, 6 - words) / 6,
                    1.0 if pleasantry else 0.0,
                    1.0 if emotion else 0.0,
                    1.0 if upper >= 0.6 else 0.0,
                    1.0 if reply else 0.0,
                ],
                dtype=np.float32,
            )
            out.append(Candidate(start, end, cleaned, features))
        return out

    def _fallback(self, text: str) -> str:
        """No sentence survived cleaning (the text is links, handles, addresses or emoji only):
        its words with the PII replaced by neutral tokens, so a ticket with text never gets
        an empty summary and never one that repeats an address."""
        s = URL_RE.sub(" [link] ", text[:MAX_SCAN_CHARS])
        s = LONG_TOKEN_RE.sub(lambda m: m.group()[:MAX_WORD_CHARS] + "…", s)
        s = EMAIL_RE.sub(" [email] ", s)
        s = HANDLE_RE.sub(" [handle] ", s)
        s = PHONE_RE.sub(_phone_token, s)
        return shorten(_SPACE_RE.sub(" ", s).strip(), self.max_words)


_SIGNOFF_LINE_RE = re.compile(
    r"^(?i:" + "|".join(sorted(SIGNOFF_WORDS, key=len, reverse=True)) + r"|all the best|yours truly|"
    r"yours sincerely|best wishes|sent from my \w+)\b[\s,.!:-]*(?:[A-Z][\w.'’-]*\s*){0,3}$"
)
MAX_SIGNATURE_LINES = 4
MAX_SIGNATURE_CHARS = 200


def _starts_signature(text: str, start: int, end: int) -> bool:
    """A sign-off alone on its line ("Thanks,", "Best regards, Ann") with no more than a short
    block after it (name, title, company): that line and the block are the signature.

    A sign-off followed by more text (a later tweet in a thread, a P.S.) is not one."""
    line_end = text.find("\n", end)
    line_end = len(text) if line_end < 0 else line_end
    if text[end:line_end].strip() or not _SIGNOFF_LINE_RE.match(text[start:line_end].strip()):
        return False
    rest = text[line_end:].strip()
    lines = [line for line in rest.split("\n") if line.strip()]
    return len(lines) <= MAX_SIGNATURE_LINES and len(rest) <= MAX_SIGNATURE_CHARS


def _pool(
    states: np.ndarray, offsets: Sequence[tuple[int, int]], spans: Sequence[tuple[int, int]]
) -> tuple[np.ndarray, np.ndarray]:
    """L2-normalised mean of the token states inside each span; zeros where no token is
    (the sentence lies past the encoder's truncation)."""
    dim = states.shape[1] if states.ndim == 2 else 384
    vectors = np.zeros((len(spans), dim), dtype=np.float32)
    has = np.zeros(len(spans), dtype=bool)
    if len(offsets) == 0:
        return vectors, has
    offs = np.asarray(offsets, dtype=np.int64).reshape(-1, 2)
    starts, ends = offs[:, 0], offs[:, 1]
    real = ends > 0
    for k, (s, e) in enumerate(spans):
        mask = real & (starts >= s) & (ends <= e)
        if mask.any():
            v = states[mask].mean(axis=0)
            vectors[k] = v / max(float(np.linalg.norm(v)), 1e-12)
            has[k] = True
    return vectors, has
