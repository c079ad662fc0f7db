"""Score region and industry extraction against a hand-labelled file.

Two label formats are read: seeds-gold.json (keys "000", "004a" with a "file" field, matched to
the bundled sample by file name and position) and labels keyed by article id (the xwlb sample).
Run as `zhsearch evaluate LABELS [--corpus PATH]` or `python -m zhsearch.corpus.evaluate …`.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zhsearch.corpus.article import Article, Industries, Region
from zhsearch.corpus.facets import extract_facets
from zhsearch.corpus.industries import Taxonomy, load_taxonomy
from zhsearch.corpus.regions import gazetteer


@dataclass
class Gold:
    """One article's labels, in a format-independent shape."""

    key: str
    status: str  # "about", "national" or "unknown"
    region_checked: bool = True  # False: an industry-only label, the region is not scored
    code: str = ""
    mentions: set[str] | None = None  # None: not labelled
    traps: set[str] = field(default_factory=set)
    zone: str | None = None  # None: no zone; absent from the labels: not checked
    zone_checked: bool = False
    industries: set[str] = field(default_factory=set)
    primary: str = ""
    file: str = ""  # seeds-gold: file name the article comes from
    position: int = 0  # seeds-gold: 0 for "004a", 1 for "004b"


def load_labels(path: str | Path, split: str = "") -> list[Gold]:
    """Read a labels file (seeds-gold.json or an id-keyed file of the same shape), optionally
    only the articles of one split ("tune": rules were adjusted on them, "holdout": never)."""
    doc = json.loads(Path(path).read_text(encoding="utf-8"))
    return [
        _gold(key, spec)
        for key, spec in doc["articles"].items()
        if not split or spec.get("split") == split
    ]


def _gold(key: str, spec: dict[str, Any]) -> Gold:
    region = spec.get("region") or {}
    codes = region.get("about_codes") or []
    if not codes and region.get("about_path"):
        codes = [gazetteer().lookup(region["about_path"]) or ""]
    status = region.get("status") or ("about" if codes else "unknown")
    industry = spec.get("industry") or {}
    gold = Gold(
        key=key,
        status=status,
        region_checked="region" in spec,
        code=codes[0] if status == "about" and codes else "",
        mentions=set(region["mentions"]) if "mentions" in region else None,
        traps=set(region.get("traps") or {}),
        industries=set(industry.get("labels") or []),
        primary=industry.get("primary") or "",
    )
    if "zone" in spec:
        gold.zone_checked, gold.zone = True, spec["zone"]
    if "file" in spec:
        gold.file = spec["file"].split()[0]
        gold.position = max(0, ord(key[-1]) - ord("a")) if key[-1].isalpha() else 0
    return gold


def _article_for(
    gold: Gold, by_id: dict[str, Article], by_file: dict[tuple[str, int], Article]
) -> Article | None:
    if gold.file:
        return by_file.get((gold.file, gold.position))
    return by_id.get(gold.key)


def evaluate(
    labels_path: str | Path,
    articles: Iterable[Article],
    taxonomy_path: str = "",
    split: str = "",
    user_dict: str = "",
) -> dict:
    """Run extraction on the labelled articles (replacing their facets) and score it; returns
    every number and the failures."""
    golds = load_labels(labels_path, split)
    taxonomy = load_taxonomy(taxonomy_path, user_dict)
    by_id: dict[str, Article] = {}
    by_file: dict[tuple[str, int], Article] = {}
    for article in articles:
        by_id[article.id] = article
        by_file[(Path(article.source_path).name, article.position)] = article
    tally = _Tally()
    missing = []
    start = time.perf_counter()
    for gold in golds:
        article = _article_for(gold, by_id, by_file)
        if article is None:
            missing.append(gold.key)
            continue
        article.region, article.industries = None, None
        extract_facets(article, taxonomy)
        tally.add(gold, article, taxonomy)
    result = tally.result()
    result["missing"] = missing
    result["seconds"] = round(time.perf_counter() - start, 3)
    return result


def _ratio(num: float, den: float) -> float:
    return round(num / den, 3) if den else 0.0


class _Tally:
    """Counts behind every reported number."""

    def __init__(self) -> None:
        self.n = self.n_region = self.exact = self.province = 0
        self.none_items = self.none_tagged = 0  # items about no industry, and those given a tag
        self.mention_tp = self.mention_pred = self.mention_found = self.mention_gold = 0
        self.trap_hits: list[str] = []
        self.traps = 0
        self.zone_ok = self.zone_n = 0
        self.ind_tp = self.ind_pred = self.ind_gold = 0
        self.primary_ok = 0
        self.failures: list[dict[str, Any]] = []

    def add(self, gold: Gold, article: Article, taxonomy: Taxonomy) -> None:
        """Score one article's extracted facets against its labels."""
        region, industries = article.region, article.industries
        assert region is not None and industries is not None
        problems: list[str] = []
        self.n += 1
        if gold.region_checked:
            self.n_region += 1
            self._region(gold, region, problems)
            if gold.mentions is not None:
                self._mentions(gold, region.mentions, problems)
            self._traps(gold, region, problems)
        if gold.zone_checked:
            self._zone(gold, region.zone, problems)
        self._industries(gold, industries, taxonomy, problems)
        if problems:
            self.failures.append(
                {"key": gold.key, "title": article.title[:40], "problems": problems}
            )

    def _region(self, gold: Gold, region: Region, problems: list[str]) -> None:
        exact, province = _region_match(gold, region.status, region.code)
        self.exact += exact
        self.province += province
        if not exact:
            problems.append(
                f"region {_show(gold.status, gold.code)} → {_show(region.status, region.code)}"
            )

    def _traps(self, gold: Gold, region: Region, problems: list[str]) -> None:
        hits = sorted(gold.traps & (set(region.mentions) | set(region.codes)))
        self.traps += len(gold.traps)
        self.trap_hits.extend(f"{gold.key}:{c}" for c in hits)
        if hits:
            problems.append(f"trap codes output: {hits}")

    def _zone(self, gold: Gold, zone: str, problems: list[str]) -> None:
        self.zone_n += 1
        if _zone_matches(zone, gold.zone):
            self.zone_ok += 1
        else:
            problems.append(f"zone {gold.zone!r} → {zone!r}")

    def _industries(
        self, gold: Gold, industries: Industries, taxonomy: Taxonomy, problems: list[str]
    ) -> None:
        pred = {c for c in industries.codes if taxonomy.parent(c) is None}
        self.ind_tp += len(pred & gold.industries)
        self.ind_pred += len(pred)
        self.ind_gold += len(gold.industries)
        if not gold.industries:
            self.none_items += 1
            self.none_tagged += bool(pred)
        self.primary_ok += industries.primary == gold.primary
        if pred != gold.industries or industries.primary != gold.primary:
            problems.append(
                f"industry {sorted(gold.industries)}/{gold.primary or '-'} → "
                f"{sorted(pred)}/{industries.primary or '-'}"
            )

    def _mentions(self, gold: Gold, mentions: dict[str, int], problems: list[str]) -> None:
        gaz = gazetteer()
        assert gold.mentions is not None
        allowed = set(gold.mentions)
        for code in [*gold.mentions, gold.code]:
            allowed.update(gaz.ancestors(code))
        pred = set(mentions)
        wrong = sorted(pred - allowed)
        missed = sorted(gold.mentions - pred)
        self.mention_tp += len(pred) - len(wrong)
        self.mention_pred += len(pred)
        self.mention_found += len(gold.mentions) - len(missed)
        self.mention_gold += len(gold.mentions)
        if wrong or missed:
            problems.append(f"mentions wrong {wrong} missed {missed}")

    def result(self) -> dict[str, Any]:
        p = _ratio(self.ind_tp, self.ind_pred)
        r = _ratio(self.ind_tp, self.ind_gold)
        return {
            "articles": self.n,
            "region_articles": self.n_region,
            "region_exact": _ratio(self.exact, self.n_region),
            "region_province": _ratio(self.province, self.n_region),
            "mention_precision": _ratio(self.mention_tp, self.mention_pred),
            "mention_recall": _ratio(self.mention_found, self.mention_gold),
            "trap_hits": self.trap_hits,
            "traps_checked": self.traps,
            "zone_accuracy": _ratio(self.zone_ok, self.zone_n),
            "zones_checked": self.zone_n,
            "industry_precision": p,
            "industry_recall": r,
            "industry_f1": round(2 * p * r / (p + r), 3) if p + r else 0.0,
            "industry_counts": {
                "right": self.ind_tp,
                "wrong": self.ind_pred - self.ind_tp,
                "missed": self.ind_gold - self.ind_tp,
            },
            "no_industry_items": self.none_items,
            "no_industry_tagged": _ratio(self.none_tagged, self.none_items),
            "industry_primary": _ratio(self.primary_ok, self.n),
            "failures": self.failures,
        }


def _show(status: str, code: str) -> str:
    return gazetteer().path(code) if status == "about" else status


def _region_match(gold: Gold, status: str, code: str) -> tuple[bool, bool]:
    """(exact, province-level) agreement of one predicted region with the gold one."""
    if gold.status != "about" or status != "about":
        same = gold.status == status
        return same, same
    return code == gold.code, code[:2] == gold.code[:2]


_ZONE_SHORT = (
    ("经济技术开发区", "开发区"),
    ("经济开发区", "开发区"),
    ("高新技术产业开发区", "高新区"),
    ("高新技术开发区", "高新区"),
)


def _zone_key(zone: str) -> str:
    for long, short in _ZONE_SHORT:
        zone = zone.replace(long, short)
    return zone


def _zone_matches(pred: str, gold: str | None) -> bool:
    """Gold zones are free text ("长治高新区 (NBS 140471), 潞城经济开发区"): any one counts."""
    if not gold:
        return not pred
    if not pred:
        return False
    key = _zone_key(pred)
    for alt in re.split(r"[,，、]", re.sub(r"\([^)]*\)|（[^）]*）", "", gold)):
        alt = _zone_key(alt.strip())
        if alt and (alt.endswith(key) or key.endswith(alt)):
            return True
    return False


# --- reading the labelled articles ------------------------------------------------------------


def read_articles(paths: Sequence[str | Path], ids: set[str] | None = None) -> list[Article]:
    """Articles of files and folders; a JSONL corpus is first filtered to `ids` (fast)."""
    from zhsearch.corpus.readers import discover, file_format, read_file

    articles: list[Article] = []
    for found in discover(paths):
        if not isinstance(found, Path):
            continue
        if ids is not None and file_format(found) == "jsonl":
            articles.extend(_read_jsonl_subset(found, ids))
        else:
            articles.extend(read_file(found).articles)
    return articles


def _read_jsonl_subset(path: Path, ids: set[str]) -> list[Article]:
    from zhsearch.corpus.readers import read_file

    opener = gzip.open if path.name.endswith(".gz") else open
    keep = []
    with opener(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            m = re.match(r'\{\s*"id"\s*:\s*"([^"]+)"', line)
            if m and m.group(1) in ids:
                keep.append(line if line.endswith("\n") else line + "\n")
    with tempfile.TemporaryDirectory() as tmp:
        subset = Path(tmp) / "subset.jsonl"
        subset.write_text("".join(keep), encoding="utf-8")
        return read_file(subset).articles


def draw_industry_sample(
    path: str | Path,
    seed: int,
    per_stratum: int,
    since: str = "2019",
    exclude: Iterable[str] = (),
    taxonomy_path: str = "",
    user_dict: str = "",
) -> dict[str, str]:
    """Reproducibly draw xwlb ids dated `since` or later, `per_stratum` whose text holds a taxonomy
    keyword ("keyword") and as many without one ("none"): general news, as an analyst meets it."""
    from zhsearch.corpus.facets import article_words
    from zhsearch.corpus.industries import keyword_matches

    taxonomy = load_taxonomy(taxonomy_path, user_dict)
    skip = set(exclude)
    lines: dict[str, str] = {}
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            m = re.match(r'\{\s*"id"\s*:\s*"([^"]+)".*?"date"\s*:\s*"(\d{4})', line)
            if m and m.group(2) >= since and m.group(1) not in skip:
                lines[m.group(1)] = line if line.endswith("\n") else line + "\n"
    order = sorted(lines)
    random.Random(seed).shuffle(order)
    picks: dict[str, str] = {}
    wanted = {"keyword": per_stratum, "none": per_stratum}
    batch = 200
    for start in range(0, len(order), batch):
        ids = order[start : start + batch]
        by_id = {a.id: a for a in _read_lines([lines[i] for i in ids])}
        for doc_id in ids:  # in drawn order, so the result does not depend on the batch size
            article = by_id.get(doc_id)
            if article is None:
                continue
            words = article_words(article, user_dict)
            hit = any(keyword_matches(taxonomy, seq) for seq in (words.title, words.body))
            stratum = "keyword" if hit else "none"
            if wanted[stratum]:
                wanted[stratum] -= 1
                picks[doc_id] = stratum
        if not any(wanted.values()):
            break
    return picks


def _read_lines(lines: list[str]) -> list[Article]:
    from zhsearch.corpus.readers import read_file

    with tempfile.TemporaryDirectory() as tmp:
        subset = Path(tmp) / "subset.jsonl"
        subset.write_text("".join(lines), encoding="utf-8")
        return read_file(subset).articles


# --- command line -----------------------------------------------------------------------------


def format_report(result: dict[str, Any], failures: bool = True) -> str:
    """A short human-readable report of `evaluate`'s result."""
    lines = [
        f"articles: {result['articles']}"
        + (f" (missing {len(result['missing'])})" if result["missing"] else "")
    ]
    if result["region_articles"]:
        lines += [
            f"region about, exact path:   {result['region_exact']:.3f}",
            f"region about, province:     {result['region_province']:.3f}",
        ]
    if result["mention_precision"] or result["mention_recall"]:
        lines.append(
            "mentions precision/recall:  "
            f"{result['mention_precision']:.3f} / {result['mention_recall']:.3f}"
        )
    if result["region_articles"]:
        lines.append(
            f"trap codes output:          {len(result['trap_hits'])} of "
            f"{result['traps_checked']} traps"
        )
    if result["zones_checked"]:
        lines.append(f"zone accuracy:              {result['zone_accuracy']:.3f}")
    counts = result["industry_counts"]
    lines.append(
        "industry precision/recall/F1: "
        f"{result['industry_precision']:.3f} / {result['industry_recall']:.3f} / "
        f"{result['industry_f1']:.3f}"
        f"  ({counts['right']} right, {counts['wrong']} wrong, {counts['missed']} missed)"
    )
    lines.append(
        f"items about no industry tagged: {result['no_industry_tagged']:.3f} "
        f"of {result['no_industry_items']}"
    )
    lines.append(f"industry primary accuracy:  {result['industry_primary']:.3f}")
    if failures:
        for item in result["failures"]:
            lines.append(f"- {item['key']} {item['title']}")
            lines.extend(f"    {p}" for p in item["problems"])
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m corpus.evaluate LABELS [--corpus PATH]…`: print the scores (and failures)."""
    parser = argparse.ArgumentParser(prog="python -m corpus.evaluate", description=__doc__)
    parser.add_argument("labels", help="labels JSON (seeds-gold.json or an id-keyed file)")
    parser.add_argument("--corpus", action="append", help="corpus file or folder (default: sample)")
    parser.add_argument("--taxonomy", default="", help="industry taxonomy YAML (default: bundled)")
    parser.add_argument("--user-dict", default="", help="user dictionary the index is built with")
    parser.add_argument("--split", default="", help="score only this split of the labels")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--quiet", action="store_true", help="leave out the list of failures")
    args = parser.parse_args(argv)
    golds = load_labels(args.labels, args.split)
    ids = {g.key for g in golds if not g.file}
    if args.corpus:
        articles = read_articles(args.corpus, ids or None)
    else:
        from zhsearch.corpus.readers import sample_dir

        articles = read_articles([sample_dir()])
    result = evaluate(args.labels, articles, args.taxonomy, args.split, args.user_dict)
    print(
        json.dumps(result, ensure_ascii=False, indent=1)
        if args.json
        else format_report(result, not args.quiet)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
