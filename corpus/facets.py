"""Run region and industry extraction on an article, segmenting its text once for both."""

from __future__ import annotations

from dataclasses import dataclass

from zhsearch.corpus.article import Article
from zhsearch.corpus.industries import Taxonomy, classify
from zhsearch.corpus.regions import extract_region
from zhsearch.corpus.segment import get_segmenter, normalize

# Bump when the extraction rules change what they output: indexes record it and ask for a rebuild.
FACETS_VERSION = "2"


@dataclass
class ArticleWords:
    """Precise-mode words of an article's parts (normalised; punctuation kept as its own word)."""

    title: list[str]
    subtitle: list[str]
    body: list[str]


def _words(text: str, user_dict: str) -> list[str]:
    if not text:
        return []
    cut = get_segmenter(user_dict).cut(normalize(text)[0])
    return [w for w, _, _ in cut if not w.isspace()]


def article_words(article: Article, user_dict: str = "") -> ArticleWords:
    """Segment title, subtitle and content once, for every extractor to share, with the same
    dictionaries as the index (the bundled ones plus `user_dict`)."""
    return ArticleWords(
        title=_words(article.title, user_dict),
        subtitle=_words(article.subtitle, user_dict),
        body=_words(article.content, user_dict),
    )


def extract_facets(article: Article, taxonomy: Taxonomy) -> None:
    """Fill `article.region` and `article.industries` unless the source already gave them; words
    are cut with the user dictionary the taxonomy was loaded with, as the index cuts them."""
    if article.region is not None and article.industries is not None:
        return
    words = article_words(article, taxonomy.user_dict)
    if article.region is None:
        article.region = extract_region(article, words)
    if article.industries is None:
        article.industries = classify(article, taxonomy, words)
