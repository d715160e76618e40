"""What members type and what offers say, made comparable: normalisation, words, pinyin.

Meilisearch's Chinese support has gaps a product has to cover itself: it keeps a word
such as 洁牙 or 游泳馆 whole, so 牙 or 泳 never match inside it; it has no typo tolerance
for Hanzi; traditional and simplified characters are different words to it; and it knows
no pinyin. So every document carries extra attributes computed here at index time:

- `words_zh`: the words inside its title and tags (jieba's search mode, 游泳馆 → 游泳 游泳馆)
  followed by each character of the title, so a single character or a word inside a
  compound matches (ranked below whole-word matches in titles);
- `pinyin`: full pinyin and initials of those words (游泳 → youyong yy) and the initials
  of the whole title, so youyong, yy and kqjc find what a member means;
- every Chinese text traditional → simplified (OpenCC), as is every query.

A query in Chinese that matches no known word but sounds like one (游永, 建身, 瑜珈) is
corrected by its pinyin against the vocabulary of the catalogue (see `Vocabulary`).
"""

import functools
import re
import threading
import unicodedata
from collections.abc import Sequence
from pathlib import Path

import opencc

SYNONYMS_FILE = Path(__file__).with_name("synonyms.txt")
STOP_WORDS_FILE = Path(__file__).with_name("stop_words.txt")
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_HAN_RUN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
_SPACES = re.compile(r"\s+")
# Characters that carry no meaning alone and would match nearly every title.
_FILLER_CHARS = set("的及和与或之其在为是了店")


@functools.cache
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def has_han(text: str) -> bool:
    return bool(_HAN.search(text))


@functools.lru_cache(maxsize=65536)
def normalise(text: str) -> str:
    """Half-width, simplified, lower-case text with single spaces (for queries and documents)."""
    text = unicodedata.normalize("NFKC", text or "")
    if has_han(text):
        text = _t2s().convert(text)
    return _SPACES.sub(" ", text).strip().lower()


@functools.lru_cache(maxsize=65536)
def words(text: str) -> tuple[str, ...]:
    """The Chinese words of a text, with the shorter words inside longer ones (jieba's
    search mode, without its guesses at unknown words): 游泳馆年卡 → 游泳 游泳馆 年 卡."""
    found: list[str] = []
    for run in _HAN_RUN.findall(text):
        found.extend(_jieba().lcut_for_search(run, HMM=False))
    return tuple(found)


@functools.cache
def _jieba():
    """jieba, imported when first needed (its import and dictionary take seconds, which
    the web app's start-up need not wait for)."""
    import jieba

    jieba.setLogLevel(60)  # it prints its dictionary loading to stderr otherwise
    return jieba


def start_warming() -> None:
    """Load the word lists (OpenCC's, jieba's dictionary, pypinyin's phrases) in a thread of
    their own as the web app starts: its start does not wait for their seconds, and neither
    does the first member who searches after it (on a busy machine that search took over
    ten seconds)."""
    threading.Thread(target=warm_up, name="search-word-lists", daemon=True).start()


def warm_up() -> None:
    word_fields(normalise("工會會員游泳館"), ("健身",))


def _syllables(word: str) -> list[str]:
    # Imported when first needed: pypinyin's phrase dictionary takes a second to load,
    # which the web app's start-up need not wait for.
    from pypinyin import lazy_pinyin

    return lazy_pinyin(word, errors="ignore")


@functools.lru_cache(maxsize=65536)
def word_fields(title: str, others: tuple[str, ...] = ()) -> tuple[str, str]:
    """(`words_zh`, `pinyin`) of a document: see the module's docstring. `title` and
    `others` (tags, category name) are already normalised; their stop words are left out."""
    title_words = words(title)
    # A tag every offer carries (会员价) adds no sub-word or pinyin worth searching.
    other_words = [word for text in others for word in words(text) if word not in stop_words()]
    compound = list(dict.fromkeys(word for word in [*title_words, *other_words] if len(word) > 1))
    characters = [char for char in title if _HAN.match(char) and char not in _FILLER_CHARS]
    pinyin: list[str] = []
    for word in compound:
        syllables = _syllables(word)
        if syllables:
            pinyin.append("".join(syllables))
            pinyin.append("".join(syllable[0] for syllable in syllables))
    whole = [syllable[0] for syllable in _syllables("".join(_HAN_RUN.findall(title)))]
    if len(whole) > 2:
        pinyin.append("".join(whole))
    return " ".join([*compound, *characters]), " ".join(dict.fromkeys(pinyin))


def query_pinyin(text: str) -> str:
    """The full pinyin of the Chinese in a query, without spaces (游永 → youyong)."""
    return "".join(_syllables("".join(_HAN_RUN.findall(text))))


def load_synonyms(path: Path = SYNONYMS_FILE) -> list[list[str]]:
    """Groups of words that mean the same to a member, from the reviewable data file: one
    group a line, words separated by " | ", `#` starts a comment."""
    groups = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        group = list(dict.fromkeys(normalise(word) for word in line.split("|") if word.strip()))
        if len(group) > 1:
            groups.append(group)
    return groups


@functools.cache
def stop_words(path: Path = STOP_WORDS_FILE) -> frozenset[str]:
    """Words every offer says, left out of descriptions and of what tags and category names
    add to `words_zh` and `pinyin`; from the reviewable data file (see its header): words
    separated by spaces or lines, `#` starts a comment."""
    found: set[str] = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        found.update(normalise(word) for word in line.split("#", 1)[0].split())
    return frozenset(found)


def synonym_settings(groups: list[list[str]]) -> dict[str, list[str]]:
    """Meilisearch's synonyms setting: every word of a group finds the others."""
    synonyms: dict[str, list[str]] = {}
    for group in groups:
        for word in group:
            synonyms.setdefault(word, [])
            synonyms[word].extend(other for other in group if other != word and other not in synonyms[word])
    return synonyms


class Vocabulary:
    """The words of the catalogue by their pinyin, to correct a query that sounds right
    but is written wrong (游永 → 游泳). The most frequent word wins a shared sound."""

    def __init__(self, texts: list[str], extra: Sequence[str] = ()):
        counts: dict[str, int] = {}
        for text in [*texts, *extra]:
            for word in words(normalise(text)):
                if len(word) > 1:
                    counts[word] = counts.get(word, 0) + 1
        self.known = set(counts)
        self.latin = sorted(
            {word for phrase in [*texts, *extra] for word in re.findall(r"[a-z]{4,}", normalise(phrase))}
        )
        self.by_sound: dict[str, str] = {}
        for word, _ in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
            self.by_sound.setdefault(query_pinyin(word), word)

    def correct_latin(self, query: str) -> str | None:
        """The known English or pinyin word nearest to a one-word Latin query that found
        nothing (dentst → dentist): at most one edit for short words, two from eight letters."""
        if not re.fullmatch(r"[a-z]{4,30}", query):
            return None
        allowed = 1 if len(query) < 8 else 2
        best = min(
            ((edit_distance(query, word), word) for word in self.latin if abs(len(word) - len(query)) <= allowed),
            default=None,
        )
        return best[1] if best and 0 < best[0] <= allowed else None

    def knows(self, query: str) -> bool:
        """Whether this query is a word of the catalogue or made of them: not written wrong.
        A single character is no known word (it is matched inside words)."""
        if query in self.known:
            return True
        found = [word for word in words(query) if len(word) > 1]
        return bool(found) and all(word in self.known for word in found)

    def correct(self, query: str) -> str | None:
        """A known word that sounds like this Chinese query, when the query is not itself
        made of known words; None otherwise."""
        if not query or not has_han(query) or self.knows(query):
            return None
        runs = _HAN_RUN.findall(query)
        if len(runs) != 1 or runs[0] != query or len(query) < 2:
            return None  # mixed text or a single character: no guess
        corrected = self.by_sound.get(query_pinyin(query))
        return corrected if corrected and corrected != query else None


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance, a swap of two neighbours counting as one edit."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            cost = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b))
            if i > 1 and j > 1 and char_a == b[j - 2] and a[i - 2] == char_b:
                cost = min(cost, previous2[j - 2] + 1)
            current.append(cost)
        previous2, previous = previous, current
    return previous[-1]
