"""Retrieval quality on public data: dense vs lexical vs hybrid, and the duplicate threshold.

Three sets from ``../shared/datasets`` (read in place, never copied):

* SeaMonkey bug reports with known duplicates (gitbugs): for every report whose duplicate is
  in the set, is the duplicate among the first 1 / 5 / 10 others? (recall@k);
* Banking77 and CLINC150 customer messages: of the 10 nearest other messages, how many
  share the query's fine intent? (precision@10).

Every figure comes from the production search code (:class:`Snapshot` over one segment) on
the project's own encoder. Each set is cut in two halves by a hash (bug reports by their
duplicate group, so a pair never straddles the cut): the hybrid's one free constant and the
duplicate threshold are chosen on half A and reported on half B.
"""

from __future__ import annotations

import csv
import hashlib
import re
import sys
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np

from ticketlens.schemas import RawTicket
from ticketlens.similar import search
from ticketlens.similar.neighbours import DEFAULT_POLICY, Policy, TicketQuery, neighbours_for
from ticketlens.similar.search import Query, Scores, Snapshot
from ticketlens.similar.segment import IndexRow, Segment

HALF_WORDS_GRID = (10.0, 20.0, 40.0)
DUPLICATE_PRECISION = 0.9
MIN_PREDICTIONS = 2  # a threshold must be backed by at least this many calls on half A
SIMILAR_PRECISION = 0.5  # a listed similar ticket shares the fine intent at least this often
RRF_K = 60
RESUBMIT_S = 24 * 3600


@dataclass
class Corpus:
    name: str
    ids: list[str]
    texts: list[str]
    vectors: np.ndarray
    snapshot: Snapshot = field(init=False)

    def __post_init__(self) -> None:
        rows = [IndexRow(ticket_id=i, created_at=0, embedding=v, text=t)
                for i, v, t in zip(self.ids, self.vectors, self.texts, strict=True)]
        self.snapshot = Snapshot(0, (Segment.from_rows(rows),))

    def scores(self, queries: Sequence[int], chunk: int = 512) -> Iterator[tuple[int, Scores]]:
        """Each query row's scores against every row, its own row pushed to the bottom."""
        for start in range(0, len(queries), chunk):
            rows = list(queries[start:start + chunk])
            batch = [Query(self.vectors[i], self.texts[i]) for i in rows]
            for i, scores in zip(rows, self.snapshot.scores(batch), strict=True):
                scores.dense[0][i] = -1e9  # finite: 0 * -inf would be nan in a mix
                scores.lexical[0][i] = -1e9
                yield i, scores


def half(key: str) -> str:
    """'A' (choose) or 'B' (report), fixed by a hash of the key."""
    return "AB"[int(hashlib.sha1(key.encode("utf-8")).hexdigest(), 16) % 2]


# --------------------------------------------------------------------------- data --
def _embed(texts: list[str]) -> np.ndarray:
    from ticketlens.training.embed import EmbeddingCache

    return EmbeddingCache().embed(texts, progress=True)


@dataclass
class DuplicateSet:
    corpus: Corpus
    duplicates: dict[str, set[str]]  # id -> ids of its known duplicates in the set
    group: dict[str, str]  # id -> the smallest id of its duplicate group (itself when none)
    summaries: dict[str, str] = field(default_factory=dict)
    created: dict[str, float] = field(default_factory=dict)

    def resubmitted(self, a: str, b: str) -> bool:
        """The labels' blind spot: a report filed again, with the same title, or about the same
        web site within a day (the set's web-compat reports are often sent twice in minutes
        and closed INVALID, never linked)."""
        if a not in self.summaries or b not in self.summaries:
            return False
        if self.summaries[a] == self.summaries[b]:
            return True
        site_a, site_b = _site(self.summaries[a]), _site(self.summaries[b])
        return site_a is not None and site_a == site_b and abs(self.created[a] - self.created[b]) <= RESUBMIT_S


def _site(summary: str) -> str | None:
    match = re.match(r"((?:www\.)?[a-z0-9-]+(?:\.[a-z0-9-]+)+)\s+-", summary)
    return match.group(1) if match else None


def load_gitbugs(data_dir: Path, embed: Callable[[list[str]], np.ndarray] = _embed) -> DuplicateSet:
    from ticketlens.training.embed import ticket_text

    folder = data_dir / "similar" / "gitbugs_seamonkey"
    csv.field_size_limit(sys.maxsize)
    with open(folder / "SeaMonkey_bugs.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    ids = [r["Issue id"] for r in rows]
    texts = [ticket_text(r["Summary"], r["Description"]) for r in rows]
    present = set(ids)
    duplicates: dict[str, set[str]] = defaultdict(set)
    with open(folder / "SeaMonkey_bugs-combined.csv", encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            for other in (x.strip() for x in (row["Duplicate id"] or "").split(",")):
                if other and row["Issue id"] in present and other in present and other != row["Issue id"]:
                    duplicates[row["Issue id"]].add(other)
                    duplicates[other].add(row["Issue id"])
    group = {i: i for i in ids}
    changed = True
    while changed:  # smallest id of each connected group; deterministic, unlike set order
        changed = False
        for a, others in duplicates.items():
            for b in others:
                low = min(group[a], group[b], key=int)
                if group[a] != low or group[b] != low:
                    group[a] = group[b] = low
                    changed = True
    summaries = {r["Issue id"]: " ".join(r["Summary"].lower().split()) for r in rows}
    created = {r["Issue id"]: datetime.fromisoformat(r["Created"]).timestamp() for r in rows}
    return DuplicateSet(Corpus("gitbugs-seamonkey", ids, texts, embed(texts)), dict(duplicates), group,
                        summaries, created)


def load_intent_set(data_dir: Path, name: str,
                    embed: Callable[[list[str]], np.ndarray] = _embed) -> tuple[Corpus, np.ndarray]:
    from ticketlens.training.data import load_banking77, load_clinc

    if name == "banking77":
        pairs = load_banking77(data_dir)
    elif name == "clinc150":
        clinc = load_clinc(data_dir)
        pairs = clinc["train"] + clinc["val"]  # in-scope only: out-of-scope has no fine intent
    else:
        raise ValueError(f"unknown intent set {name!r}")
    texts = [t for t, _ in pairs]
    return Corpus(name, [str(n) for n in range(len(texts))], texts, embed(texts)), np.asarray([lab for _, lab in pairs])


# ----------------------------------------------------------------------- variants --
Variant = Callable[[Scores], np.ndarray]


def _hybrid(half_words: float) -> Variant:
    def score(s: Scores) -> np.ndarray:
        w = search.LEXICAL_WEIGHT * s.words / (s.words + half_words)
        return (1 - w) * s.dense[0] + w * s.lexical[0]
    return score


def _fixed_mix(dense_weight: float) -> Variant:
    return lambda s: dense_weight * s.dense[0] + (1 - dense_weight) * s.lexical[0]


def _rrf(s: Scores) -> np.ndarray:
    out = np.zeros(len(s.dense[0]))
    for values in (s.dense[0], s.lexical[0]):
        order = np.argsort(-values, kind="stable")
        ranks = np.empty(len(values))
        ranks[order] = np.arange(len(values))
        out += 1.0 / (RRF_K + 1 + ranks)
    return out


def variants() -> dict[str, Variant]:
    out: dict[str, Variant] = {"dense": lambda s: s.dense[0], "lexical": lambda s: s.lexical[0]}
    out.update({f"hybrid c={c:g}": _hybrid(c) for c in HALF_WORDS_GRID})
    out["rrf k=60"] = _rrf
    out["mix 0.5/0.5"] = _fixed_mix(0.5)
    out["mix 0.8/0.2"] = _fixed_mix(0.8)
    return out


def _top(values: np.ndarray, k: int) -> np.ndarray:
    top = np.argpartition(-values, k)[:k]
    return top[np.argsort(-values[top], kind="stable")]


# ------------------------------------------------------------------------ metrics --
def duplicate_recall(data: DuplicateSet) -> dict[str, dict[str, list[float]]]:
    """variant -> half -> [recall@1, @5, @10] over reports with a known duplicate."""
    corpus = data.corpus
    position = {i: n for n, i in enumerate(corpus.ids)}
    queries = [position[i] for i in sorted(data.duplicates, key=int)]
    hits: dict[str, dict[str, list[list[bool]]]] = defaultdict(lambda: defaultdict(list))
    for i, scores in corpus.scores(queries):
        wanted = data.duplicates[corpus.ids[i]]
        split = half(data.group[corpus.ids[i]])
        for name, variant in variants().items():
            found = [corpus.ids[t] in wanted for t in _top(variant(scores), 10)]
            hits[name][split].append([any(found[:1]), any(found[:5]), any(found[:10])])
    return {name: {h: [*np.mean(v, axis=0).tolist(), len(v)] for h, v in by_half.items()}
            for name, by_half in hits.items()}


def intent_precision(corpus: Corpus, labels: np.ndarray, k: int = 10) -> dict[str, dict[str, list[float]]]:
    """variant -> half -> [precision@k, queries] with every message as a query."""
    sums: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for i, scores in corpus.scores(range(len(corpus.ids))):
        split = half(corpus.texts[i])
        for name, variant in variants().items():
            sums[name][split].append(float(np.mean(labels[_top(variant(scores), k)] == labels[i])))
    return {name: {h: [float(np.mean(v)), len(v)] for h, v in by_half.items()} for name, by_half in sums.items()}


@dataclass
class DuplicateCalibration:
    threshold: float
    half_a: dict[str, float]
    half_b: dict[str, float]
    curve_b: list[dict[str, float]]


def calibrate_duplicates(data: DuplicateSet, score: Variant) -> DuplicateCalibration:
    """The lowest top-1 score at which calling "duplicate" is right >= 90 % of the time on half A.

    Every report is a query (most have no duplicate: they are the false alarms to avoid). A
    call is right when the top-1 other report is a labelled duplicate or a resubmission
    (:meth:`DuplicateSet.resubmitted`); ``precision_labels`` counts the labels alone.
    """
    corpus = data.corpus
    calls: dict[str, list[tuple[float, bool, bool, bool]]] = defaultdict(list)
    for i, scores in corpus.scores(range(len(corpus.ids))):
        values = score(scores)
        top = int(np.argmax(values))
        ticket, other = corpus.ids[i], corpus.ids[top]
        labelled = other in data.duplicates.get(ticket, set())
        calls[half(data.group[ticket])].append(
            (float(values[top]), labelled or data.resubmitted(ticket, other), labelled, ticket in data.duplicates))

    def at(threshold: float, rows: list[tuple[float, bool, bool, bool]]) -> dict[str, float]:
        made = [r for r in rows if r[0] >= threshold]
        right = sum(r[1] for r in made)
        findable = sum(r[3] for r in rows)
        return {"threshold": round(threshold, 4), "calls": len(made), "right": right,
                "precision": right / len(made) if made else float("nan"),
                "precision_labels": sum(r[2] for r in made) / len(made) if made else float("nan"),
                "recall": sum(r[2] for r in made) / findable if findable else float("nan"),
                "with_duplicate": findable}

    chosen = 1.0
    for t in sorted({round(r[0], 2) for r in calls["A"]}):
        stats = at(t, calls["A"])
        if stats["calls"] >= MIN_PREDICTIONS and stats["precision"] >= DUPLICATE_PRECISION:
            chosen = t
            break
    curve = [at(t, calls["B"]) for t in (0.8, 0.84, 0.88, 0.9, 0.92, 0.94, 0.96)]
    return DuplicateCalibration(round(chosen, 3), at(chosen, calls["A"]), at(chosen, calls["B"]), curve)


def calibrate_similar_floor(corpora: Sequence[tuple[Corpus, np.ndarray]], score: Variant,
                            k: int = 5) -> dict[str, object]:
    """The lowest score at which the k best neighbours share the query's fine intent at least
    half the time, on half A of the intent sets (bins of 0.05); half B reported at it."""
    bins = np.round(np.arange(0.3, 1.0, 0.05), 2)
    same: dict[str, np.ndarray] = {h: np.zeros(len(bins)) for h in "AB"}
    seen: dict[str, np.ndarray] = {h: np.zeros(len(bins)) for h in "AB"}
    for corpus, labels in corpora:
        for i, scores in corpus.scores(range(0, len(corpus.ids), 3)):
            values = score(scores)
            top = _top(values, k)
            which = np.clip(np.searchsorted(bins, values[top], side="right") - 1, -1, len(bins) - 1)
            h = half(corpus.texts[i])
            for b, agrees in zip(which, labels[top] == labels[i], strict=True):
                if b >= 0:
                    seen[h][b] += 1
                    same[h][b] += agrees
    rate = {h: np.divide(same[h], np.maximum(seen[h], 1)) for h in "AB"}
    floor = next(
        (float(b) for b, r, n in zip(bins, rate["A"], seen["A"], strict=True) if n >= 20 and r >= SIMILAR_PRECISION),
        float(bins[-1]),
    )
    at = int(np.searchsorted(bins, floor))
    above_b = same["B"][at:].sum() / max(seen["B"][at:].sum(), 1)
    return {"floor": floor, "same_intent_above_floor_B": float(above_b),
            "rate_by_bin_B": {f"{b:.2f}": round(float(r), 3) for b, r in zip(bins, rate["B"], strict=True)}}


# ---------------------------------------------------------------------- incidents --
@dataclass
class IncidentScenario:
    """A day of generated traffic with one outage burst, run through the rule as the pipeline
    would: batches in time order, each judged against the index of the batches before it."""

    seed: int
    link: float
    burst: int
    burst_flagged: int  # burst tickets given an incident
    burst_in_main: int  # ... given the burst's most common incident id
    normal: int
    normal_flagged: int  # ordinary tickets given an incident (false alarms)
    normal_in_burst_incident: int  # ... of which the burst's incident (the same kind of problem)
    incidents: int  # distinct incident ids handed out

    def line(self) -> str:
        return (f"seed {self.seed} link {self.link:.2f}: burst {self.burst_flagged}/{self.burst} flagged, "
                f"{self.burst_in_main} in one incident; ordinary {self.normal_flagged}/{self.normal} flagged "
                f"({self.normal_in_burst_incident} into the burst's); {self.incidents} incident id(s)")


def outage_day(seed: int, per_day: int = 1440, burst: int = 40, burst_minutes: int = 30,
               start: int = 1_762_000_000) -> tuple[list[RawTicket], set[str]]:
    """Ordinary generated tickets over 24 h plus ``burst`` 'bug/outage' tickets in ``burst_minutes``
    from 14:00 on; returns the tickets in time order and the burst's ticket ids."""
    from ticketlens.generator import TicketFactory

    factory = TicketFactory(seed=seed)
    tickets = [factory.make(start + int(n * 86400 / per_day)) for n in range(per_day)]
    outage = TicketFactory(seed=f"{seed}/outage", intent_weights={"bug_report": 1.0})
    burst_start = start + 14 * 3600
    picked: list[RawTicket] = []
    n = 0
    while len(picked) < burst:
        at = burst_start + int(len(picked) * burst_minutes * 60 / burst)
        ticket = outage.make(at)
        n += 1
        if ticket.metadata.model_extra.get("generator", {}).get("template") == "bug/outage":
            picked.append(ticket)
    return sorted([*tickets, *picked], key=lambda t: (t.created_at, t.ticket_id)), {t.ticket_id for t in picked}


def run_incident_scenario(seed: int, policy: Policy = DEFAULT_POLICY, batch: int = 10, per_day: int = 1440,
                          burst_size: int = 40, embed: Callable[[list[str]], np.ndarray] = _embed) -> IncidentScenario:
    import tempfile

    from ticketlens.enrichment.transcript import customer_side
    from ticketlens.similar.index import SegmentedIndex
    from ticketlens.similar.storage import FolderStorage

    tickets, burst = outage_day(seed, per_day=per_day, burst=burst_size)
    texts = [customer_side(t.text) for t in tickets]
    vectors = embed(texts)
    given: dict[str, str | None] = {}
    with tempfile.TemporaryDirectory() as folder:
        index = SegmentedIndex(FolderStorage(folder))
        for start in range(0, len(tickets), batch):
            chunk = list(range(start, min(start + batch, len(tickets))))
            queries = [TicketQuery(tickets[i].ticket_id, tickets[i].created_at, vectors[i], texts[i]) for i in chunk]
            found = neighbours_for(queries, index.snapshot(), policy)
            index.append([IndexRow(ticket_id=q.ticket_id, created_at=q.created_at, embedding=q.embedding,
                                   text=q.text, incident=n.incident or "")
                          for q, n in zip(queries, found, strict=True)])
            given.update({q.ticket_id: n.incident for q, n in zip(queries, found, strict=True)})
    in_burst = [given[t] for t in burst if given[t]]
    main = max(set(in_burst), key=in_burst.count) if in_burst else None
    normal = [i for t, i in given.items() if t not in burst]
    return IncidentScenario(seed, policy.incident_link, len(burst), len(in_burst),
                            sum(i == main for i in in_burst), len(normal), sum(bool(i) for i in normal),
                            sum(i == main for i in normal if main), len({i for i in given.values() if i}))


INCIDENT_LINKS = (0.45, 0.5, 0.55, 0.6)


def incident_report(choose_seed: int = 1, report_seeds: Sequence[int] = (2, 3)) -> str:
    """The link threshold's sweep on one generated day, the default policy on two others."""
    import dataclasses

    lines = [f"incident rule on generated days (1,440 ordinary tickets + a 40-ticket outage burst in 30 min), "
             f"batches of 10; link chosen on seed {choose_seed}:"]
    for link in INCIDENT_LINKS:
        scenario = run_incident_scenario(choose_seed, dataclasses.replace(DEFAULT_POLICY, incident_link=link))
        lines.append("  " + scenario.line())
    lines.append(f"reported with the default policy (link {DEFAULT_POLICY.incident_link}):")
    for seed in report_seeds:
        lines.append("  " + run_incident_scenario(seed, DEFAULT_POLICY).line())
    return "\n".join(lines)


# ------------------------------------------------------------------------- report --
@dataclass
class Report:
    bugs: dict[str, dict[str, list[float]]]
    intents: dict[str, dict[str, dict[str, list[float]]]]
    chosen_half_words: float
    duplicates: DuplicateCalibration
    similar_floor: dict[str, object]

    def table(self) -> str:
        lines = ["retrieval quality (half A chooses, half B reports)", ""]
        header = f"{'method':<16}" + "".join(
            f"{'bugs r@1/5/10 ' + h:>26}" for h in "AB") + "".join(
            f"{name + ' p@10 ' + h:>18}" for name in self.intents for h in "AB")
        lines.append(header)
        for name in self.bugs:
            cells = "".join(f"{'/'.join(f'{v:.3f}' for v in self.bugs[name][h][:3]):>26}" for h in "AB")
            cells += "".join(f"{self.intents[s][name][h][0]:>18.3f}" for s in self.intents for h in "AB")
            lines.append(f"{name:<16}{cells}")
        n = {h: int(self.bugs['dense'][h][3]) for h in "AB"}
        lines.append(f"(queries: bugs A {n['A']}, B {n['B']}; "
                     + ", ".join(f"{s} A {int(v['dense']['A'][1])}, B {int(v['dense']['B'][1])}"
                                 for s, v in self.intents.items()) + ")")
        lines.append("")
        lines.append(f"hybrid constant chosen on half A: LEXICAL_HALF_WORDS = {self.chosen_half_words:g}")
        d = self.duplicates
        lines.append(f"duplicate threshold (precision >= {DUPLICATE_PRECISION} on half A): {d.threshold}")
        for h, stats in (("A", d.half_a), ("B", d.half_b)):
            lines.append(f"  half {h}: {stats['calls']} calls, {stats['right']} right, precision "
                         f"{stats['precision']:.3f} ({stats['precision_labels']:.3f} by the labels alone), "
                         f"recall {stats['recall']:.3f} of {stats['with_duplicate']} reports with a labelled duplicate")
        lines.append("  half B by threshold (precision / by labels alone / calls): " + ", ".join(
            f"{c['threshold']:g}: {c['precision']:.2f}/{c['precision_labels']:.2f}/{c['calls']}" for c in d.curve_b))
        f = self.similar_floor
        lines.append(f"similar floor (top-5 neighbours share the fine intent >= {SIMILAR_PRECISION} on half A): "
                     f"{f['floor']}; half B above it: {f['same_intent_above_floor_B']:.3f}")
        lines.append(f"  half B same-intent rate by score bin: {f['rate_by_bin_B']}")
        return "\n".join(lines)


def evaluate(data_dir: Path) -> Report:
    bugs_set = load_gitbugs(data_dir)
    bugs = duplicate_recall(bugs_set)
    intent_sets = {name: load_intent_set(data_dir, name) for name in ("banking77", "clinc150")}
    intents = {name: intent_precision(*pair) for name, pair in intent_sets.items()}

    def margin(name: str, h: str) -> float:
        """How far a variant is above the better plain method, at its worst set."""
        gaps = [bugs[name][h][2] - max(bugs["dense"][h][2], bugs["lexical"][h][2])]
        gaps += [v[name][h][0] - max(v["dense"][h][0], v["lexical"][h][0]) for v in intents.values()]
        return min(gaps)

    chosen = max(HALF_WORDS_GRID, key=lambda c: margin(f"hybrid c={c:g}", "A"))
    duplicates = calibrate_duplicates(bugs_set, _hybrid(chosen))
    floor = calibrate_similar_floor(list(intent_sets.values()), _hybrid(chosen))
    return Report(bugs, intents, chosen, duplicates, floor)
