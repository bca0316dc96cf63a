"""How people write to support, apart from what they write about.

The pieces here (greetings, tone openers and closers, sign-offs, stakes sentences, typos,
casing) wrap every template, so the same template reads differently each time and a
classifier cannot learn a template's wording. Only STAKES changes the ground truth: every
other piece is chosen so that it leaves intent, urgency and sentiment as they were.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Mapping

from ticketlens.generator.model import Kind, Stakes, Tone
from ticketlens.schemas import Urgency

GREETINGS: Mapping[Tone, tuple[str, ...]] = {
    "furious": ("", "", "Hello?", "To whoever reads this,", "Support,", "Hi"),
    "polite": ("Hi there,", "Hello,", "Dear Support Team,", "Good morning,", "Hi {first_name2},", "Hello team,", "Dear Sir or Madam,"),
    "neutral": ("", "", "Hi,", "Hello", "Hey,", "hi"),
    "grateful": ("Hi team!", "Hello lovely people,", "Hi there :)", "Hey folks,", "Hi {first_name2}!"),
}

# Openers and closers set the tone (a neutral message has no opener). For a complaint even the
# grateful ones keep it a complaint, and for a request only the grateful ones praise: "thanks in
# advance" is politeness, not praise.
OPENERS: Mapping[tuple[Tone, Kind], tuple[str, ...]] = {
    ("furious", "complaint"): (
        "This is absolutely ridiculous.", "I am beyond frustrated.", "Third time I'm writing about this!!",
        "Seriously??", "I can't believe I'm paying for this.", "Your service is a joke.", "Unbelievable.",
    ),
    ("furious", "request"): (
        "Why is it so hard to get a straight answer from you people?", "I've asked this before and nobody replied.",
        "Honestly, this should not take three emails.", "I'm fed up with waiting.",
    ),
    ("polite", "complaint"): ("Sorry to bother you, but I have a problem.", "I hope you can help me with something.", "I hope you're well."),
    ("polite", "request"): ("I hope you're well.", "Quick question if you don't mind.", "I hope you can help."),
    ("polite", "praise"): ("I hope you're well.",),
    ("grateful", "complaint"): (
        "I've been a happy customer for {tenure} and really like the product, but something's wrong.",
        "You usually do a great job, so I'm surprised by this.", "Love the app, but I've hit a snag.",
    ),
    ("grateful", "request"): (
        "First off, I love {product}, it has made my work so much easier.", "Big fan of what you've built!",
        "Your team has been fantastic so far.", "We've been really happy with {product} for {tenure}.",
    ),
    ("grateful", "praise"): ("You folks are the best.",),
}

CLOSERS: Mapping[tuple[Tone, Kind], tuple[str, ...]] = {
    ("furious", "complaint"): (
        "Fix it. Now.", "If this isn't sorted today I'm cancelling.", "I expect a response TODAY.", "Unacceptable.",
        "Do better.", "I want this resolved immediately!!!", "Don't send me a canned reply.",
    ),
    ("furious", "request"): ("Is that too much to ask?", "Please just answer the question this time.", "I'd like an actual answer."),
    ("polite", "complaint"): ("Thanks in advance.", "Any help would be appreciated.", "Thank you for your time.", "Thanks for looking into it."),
    ("polite", "request"): ("Thanks in advance.", "Thank you!", "Many thanks.", "Appreciate your help."),
    ("polite", "praise"): ("Thanks again.", "All the best."),
    ("neutral", "complaint"): ("Thanks", "Let me know."),
    ("neutral", "request"): ("Thanks", "Let me know."),
    ("grateful", "complaint"): ("Thanks so much, you're usually great!", "Really appreciate your help with this.", "Thanks, you guys are the best."),
    ("grateful", "request"): ("Keep up the great work!", "Thanks for building such a great product!", "You're awesome, thanks!"),
    ("grateful", "praise"): ("Thanks again!", "Keep it up!", "You're the best!"),
}

SIGN_OFFS: tuple[str, ...] = (
    "", "", "{first_name}", "- {first_name}", "Best,\n{full_name}", "Regards,\n{full_name}", "Sent from my iPhone",
    "{full_name}\n{job_title}, {company}", "Cheers,\n{first_name}", "Thanks,\n{first_name} {last_name}", "{first_name} ({company})",
    "Kind regards,\n{full_name}\n{work_email}",
)

URGENCY_ORDER: tuple[Urgency, ...] = ("low", "medium", "high", "critical")

# The sentences that carry impact. Each names the urgency it implies at least.
STAKES: Mapping[Stakes, tuple[Urgency, tuple[str, ...]]] = {
    "soon": ("medium", (
        "It would be good to have this sorted [this week|before the end of the month].",
        "We're making a decision on this [by Friday|next week], so an answer soon would help.",
        "Our [renewal|budget review] is coming up at the end of {month}.",
    )),
    "deadline": ("high", (
        "I need this working before my {deadline_event} {when_soon}.",
        "I have a {deadline_event} {when_soon} and need this fixed before then.",
        "We have a hard deadline {when_soon}, so please treat this as urgent.",
        "I need to {task} {when_soon} and can't until this is fixed.",
    )),
    "blocked": ("high", (
        "I literally can't do any work until this is fixed.",
        "This is blocking me from doing my job: I need to {task}.",
        "I'm completely stuck, I can't {task}.",
    )),
    "team": ("critical", (
        "Our whole team ({team_size} people) is blocked by this right now.",
        "This affects everyone at {company}: {team_size} people can't work.",
        "None of our {team_size} staff can work until this is resolved.",
    )),
    "revenue": ("critical", (
        "Our customers can't [place orders|check out|pay us] and we're losing money every minute.",
        "This is costing us sales right now, our shop depends on it.",
        "We're a live business and this has stopped [our orders|our revenue] completely.",
    )),
}

# Said only about tickets whose truth stays low: urgency words must not contradict the label.
CALM_NOTES: tuple[str, ...] = ("No rush on this.", "Whenever you get a chance.", "Not urgent at all.", "No hurry.")

CONTEXT_DETAILS: Mapping[Kind, tuple[str, ...]] = {
    "complaint": (
        "I've already tried [logging out and back in|clearing the cache|restarting {product}|reinstalling the app|a different browser].",
        "I'm on {os}[ with {browser}|], {product} version {app_version}.",
        "My account email is {email} if you need it.",
        "[I think|Not sure, but I think] it started {relative_day}.",
        "[Screenshot attached.|I can send screenshots.]",
        "Previous ticket: {ticket_ref}. [Nobody got back to me.|It was closed without a fix.]",
    ),
    "request": (
        "My account email is {email}.",
        "We're on the {plan} plan[, {team_size} users|].",
        "I'm the {job_title} at {company}.",
        "[I've read the help centre|I searched the docs] but couldn't find an answer.",
    ),
    "praise": ("[I've been a customer for {tenure}.|We've used you for {tenure}.]",),
    "noise": (),
}

GENERIC_SUBJECTS: tuple[str, ...] = (
    "Help", "Question", "Support request", "(no subject)", "Re: {ticket_ref}", "Hello", "Issue", "Please help",
    "Fwd: {ticket_ref}", "help needed", "Quick one", "Support",
)
FURIOUS_SUBJECT_PREFIXES: tuple[str, ...] = ("URGENT: ", "URGENT!!! ", "Complaint: ", "3rd email: ", "")

MISSPELLINGS: Mapping[str, str] = {
    "receive": "recieve", "received": "recieved", "definitely": "definately", "separate": "seperate",
    "account": "acount", "password": "pasword", "because": "becuase", "really": "realy", "again": "agian",
    "address": "adress", "problem": "problme", "please": "pls", "you": "u", "thanks": "thx", "can't": "cant",
    "don't": "dont", "i'm": "im", "doesn't": "doesnt", "tomorrow": "tommorow", "immediately": "immediatly",
    "invoice": "invioce", "payment": "paymnet", "charged": "chraged", "which": "wich", "their": "there",
    "working": "wokring", "subscription": "subscripton", "access": "acess", "calendar": "calender",
    "until": "untill", "before": "befor", "anyone": "any one", "it's": "its", "weird": "wierd",
}
_KEYBOARD_NEIGHBOURS: Mapping[str, str] = {
    "a": "sq", "b": "vn", "c": "xv", "d": "sf", "e": "wr", "f": "dg", "g": "fh", "h": "gj", "i": "uo", "j": "hk",
    "k": "jl", "l": "k", "m": "n", "n": "bm", "o": "ip", "p": "o", "q": "w", "r": "et", "s": "ad", "t": "ry",
    "u": "yi", "v": "cb", "w": "qe", "x": "zc", "y": "tu", "z": "x",
}
_WORD = re.compile(r"^([\"'(]*)([A-Za-z][A-Za-z']*)([^A-Za-z]*)$")

_ALTERNATION = re.compile(r"\[([^\[\]]*)\]")
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def choose_alternatives(text: str, rng: random.Random) -> str:
    """Resolve every ``[a|b|]`` group to one of its options."""
    return _ALTERNATION.sub(lambda m: rng.choice(m.group(1).split("|")), text)


def placeholders(text: str) -> list[str]:
    return _PLACEHOLDER.findall(text)


def fill(text: str, lookup: Callable[[str], str]) -> str:
    return _PLACEHOLDER.sub(lambda m: lookup(m.group(1)), text)


def raise_urgency(base: Urgency, floor: Urgency) -> Urgency:
    return max(base, floor, key=URGENCY_ORDER.index)


def add_typos(text: str, rng: random.Random, rate: float) -> str:
    """Misspell about ``rate`` of the words, leaving ids, emails, numbers and acronyms intact."""
    out = []
    for token in re.split(r"(\s+)", text):
        match = _WORD.match(token)
        if not match or rng.random() >= rate:
            out.append(token)
            continue
        lead, word, tail = match.groups()
        if word.isupper() and len(word) > 1:
            out.append(token)
            continue
        out.append(lead + _misspell(word, rng) + tail)
    return "".join(out)


def _misspell(word: str, rng: random.Random) -> str:
    known = MISSPELLINGS.get(word.lower())
    if known is not None:
        return known.capitalize() if word[0].isupper() else known
    if len(word) < 4:
        return word
    i = rng.randrange(1, len(word) - 1)
    edit = rng.choice(("swap", "drop", "double", "neighbour"))
    if edit == "swap":
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if edit == "drop":
        return word[:i] + word[i + 1 :]
    if edit == "double":
        return word[:i] + word[i] + word[i:]
    near = _KEYBOARD_NEIGHBOURS.get(word[i].lower())
    return word[:i] + rng.choice(near) + word[i + 1 :] if near else word


def shout(sentence: str) -> str:
    return sentence.upper().rstrip(".!") + "!!!"


def chat_style(text: str) -> str:
    """Lowercase, no closing full stop: how people type into a chat widget.

    A message that is only punctuation (".") stays as it is: a chat line is never empty.
    """
    return text.lower().rstrip(".") or text.lower()
