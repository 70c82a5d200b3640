"""WordNet 3.0 nouns: class names of any label space mapped to synsets, and the hierarchy they give.

ImageNet-1k's classes *are* WordNet synsets; other label spaces (CIFAR-10, an in-house set of
200 products) usually have English nouns for names. :func:`map_to_wordnet` maps each class name
to a WordNet 3.0 noun synset and says which one and why; :meth:`WordNetMapping.hierarchy`
turns the mapping into a :class:`~relabel.hierarchy.Hierarchy` whose nodes are the class keys
(inner nodes are wnids), with each node's lexicographer file, so that
:func:`~relabel.categorisation.categorise` can use it like ImageNet's.

The whole noun graph ships as package data (``annotations/wordnet30_nouns.tsv.xz``, about
1 MB, generated from Debian's ``wordnet-base`` by ``scripts/build_imagenet_annotations.py``).

How a name is mapped (``match`` column of :attr:`WordNetMapping.table`):

1. **Normalise**: trim, ``_`` to a space, case-insensitive (WordNet's ``index.noun`` is lower
   case). Single characters and Roman numerals (``IV``, ``VI``, ``XII``) are never mapped:
   their WordNet noun senses are symbols and numbers (``IV`` is *four* and *intravenous
   feeding*), not things in a photograph.
2. **Candidates** (``exact lemma``): the noun synsets with that lemma; if none, WordNet's base
   forms (``base form``: ``noun.exc`` irregular plurals such as *mice*, then the regular
   suffix rules ``-s``, ``-es``, ``-ies``); if none, for a name of several words, the last word
   (``head noun``: *Laysan albatross* → *albatross*; the class is then placed *under* that
   synset, as a kind of it, never equated with it).
3. **Depictable senses only**: a candidate must not be an instance (a named individual such as
   the *Virgin Islands*), and must be a physical entity (below *physical entity* in WordNet) or
   belong to a lexicographer file that holds ImageNet-1k classes (artifact, animal, food, plant,
   object, communication, person, substance; ``communication`` holds *street sign* and *traffic
   light*). Acts, quantities, attributes, times, … are not what an image class shows. A name
   whose candidates are all removed here is ``unmapped`` and the reason lists what WordNet had.
4. **Which sense** (``senses`` > 1): the most frequent one (WordNet's sense order, which ranks
   senses by their SemCor tag count), unless the label space itself says otherwise — another
   candidate sits much closer to the other classes: its best Wu–Palmer similarity to any other
   class's (most frequent) sense exceeds that of the most frequent sense by at least
   ``context_margin`` (0.2; the statistic behind it is in ``docs/categorisation.md``). So
   *mouse* next to *keyboard* and *monitor* is the computer mouse, *cardinal* among birds the
   bird, and *cat* in CIFAR-10 stays the animal.

A user corrects or completes the mapping with a CSV file of ``class_key,synset`` rows
(:func:`load_wordnet_map`; ``synset`` is a wnid such as ``n02121620``, or empty to leave a class
unmapped); those rows win (``match`` = ``user file``).
"""

from __future__ import annotations

import lzma
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from relabel import _tables
from relabel.errors import InputError, format_offenders
from relabel.hierarchy import Hierarchy
from relabel.labelspace import LabelSpace

__all__ = ["WordNetMapping", "WordNetNouns", "load_wordnet_map", "map_to_wordnet", "wordnet_nouns"]

ROOT = "n00001740"  # entity
PHYSICAL_ENTITY = "n00001930"
#: How many of ImageNet-1k's 1000 classes each lexicographer file holds: what image classes are
#: made of. Used to keep depictable senses and, among senses WordNet's tag counts cannot rank,
#: as the prior that prefers the more common kind of image class.
IMAGE_LEXNAME_COUNTS = {
    "noun.artifact": 518, "noun.animal": 398, "noun.food": 48, "noun.plant": 15, "noun.object": 11,
    "noun.communication": 6, "noun.person": 3, "noun.substance": 1,
}
IMAGE_LEXNAMES = frozenset(IMAGE_LEXNAME_COUNTS)
_ROMAN = re.compile(r"M{0,3}(CM|CD|D?C{0,3})(XC|XL|L?X{0,3})(IX|IV|V?I{0,3})", re.IGNORECASE)
_WNID = re.compile(r"n[0-9]{8}")
#: WordNet's regular noun suffix rules (morphy): ending → replacement.
_SUFFIXES = (("ses", "s"), ("xes", "x"), ("zes", "z"), ("ches", "ch"), ("shes", "sh"), ("men", "man"),
             ("ies", "y"), ("s", ""))


@dataclass(frozen=True)
class WordNetNouns:
    """Every WordNet 3.0 noun synset: wnid, lexicographer file, lemmas, hypernyms, sense ranks.

    Rows are synsets in offset order. ``hypernyms[i]`` are row numbers of synset ``i``'s
    ``@`` and ``@i`` parents; ``is_instance[i]`` says whether any parent is an ``@i``
    (instance-of) parent, i.e. the synset is a named individual. ``senses`` maps a lower-case
    lemma to its synsets as ``(row, sense number, SemCor tag count)`` in WordNet's sense order.
    """

    wnids: tuple[str, ...]
    lexnames: tuple[str, ...]
    lemmas: tuple[tuple[str, ...], ...]
    hypernyms: tuple[tuple[int, ...], ...]
    is_instance: np.ndarray
    senses: Mapping[str, tuple[tuple[int, int, int], ...]]
    exceptions: Mapping[str, tuple[str, ...]]
    _row: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_row", {w: i for i, w in enumerate(self.wnids)})

    def __len__(self) -> int:
        return len(self.wnids)

    def __contains__(self, wnid: object) -> bool:
        return wnid in self._row

    def row(self, wnid: str) -> int:
        """The row of a wnid (``n02084071``); an :class:`InputError` for an unknown one."""
        try:
            return self._row[wnid]
        except KeyError:
            raise InputError(f"{wnid!r} is not a WordNet 3.0 noun synset id (n + 8-digit offset)") from None

    def name(self, row: int) -> str:
        """The synset's first lemma (``dog``)."""
        return self.lemmas[row][0]

    def ancestors(self, row: int) -> dict[int, int]:
        """Every ancestor row (itself at 0) with the fewest hypernym hops up to it."""
        dist = {row: 0}
        frontier = [row]
        while frontier:
            nxt = []
            for r in frontier:
                for p in self.hypernyms[r]:
                    if p not in dist:
                        dist[p] = dist[r] + 1
                        nxt.append(p)
            frontier = nxt
        return dist

    def depth(self, row: int) -> int:
        """Shortest number of hops from *entity* down to the synset."""
        dist = self.ancestors(row)
        return dist[self._row[ROOT]]

    def is_depictable(self, row: int) -> bool:
        """Not a named individual, and a physical entity or in a lexicographer file of ImageNet's classes."""
        if self.is_instance[row]:
            return False
        return self.lexnames[row] in IMAGE_LEXNAMES or self._row[PHYSICAL_ENTITY] in self.ancestors(row)

    def hierarchy(self, rows: Sequence[int], *, source: str = "WordNet 3.0") -> Hierarchy:
        """The hypernym DAG of ``rows`` and all their ancestors, keyed by wnid, with names and lexnames."""
        parents: dict[str, tuple[str, ...]] = {}
        todo = list(dict.fromkeys(int(r) for r in rows))
        seen = set(todo)
        while todo:
            r = todo.pop()
            parents[self.wnids[r]] = tuple(self.wnids[p] for p in self.hypernyms[r])
            for p in self.hypernyms[r]:
                if p not in seen:
                    seen.add(p)
                    todo.append(p)
        names = {self.wnids[r]: self.name(r) for r in seen}
        lexnames = {self.wnids[r]: self.lexnames[r] for r in seen}
        return Hierarchy(parents, names, source=source, lexnames=lexnames)


@cache
def wordnet_nouns() -> WordNetNouns:
    """The WordNet 3.0 noun graph shipped in ``relabel.annotations`` (read once per process)."""
    files = resources.files("relabel.annotations")
    with files.joinpath("wordnet30_nouns.tsv.xz").open("rb") as f:
        text = lzma.decompress(f.read()).decode("utf-8")
    lines = text.split("\n")[1:-1]
    wnids, lexnames, lemmas, parents_text = [], [], [], []
    senses: dict[str, list[tuple[int, int, int]]] = {}
    for i, line in enumerate(lines):
        offset, lexname, lemma_text, sense_text, count_text, hyper = line.split("\t")
        words = tuple(lemma_text.split("|"))
        ranks = [int(x) for x in sense_text.split()] if sense_text else [1] * len(words)
        counts = [int(x) for x in count_text.split()] if count_text else [0] * len(words)
        wnids.append("n" + offset)
        lexnames.append(lexname)
        lemmas.append(words)
        parents_text.append(hyper.split())
        for word, rank, count in zip(words, ranks, counts):
            senses.setdefault(word.lower(), []).append((i, rank, count))
    row = {w: i for i, w in enumerate(wnids)}
    hypernyms = tuple(tuple(row["n" + p.lstrip("i")] for p in ps) for ps in parents_text)
    instance = np.asarray([any(p.startswith("i") for p in ps) for ps in parents_text], dtype=bool)
    with files.joinpath("wordnet30_noun_exceptions.tsv.xz").open("rb") as f:
        exc_lines = lzma.decompress(f.read()).decode("utf-8").split("\n")[1:-1]
    exceptions: dict[str, list[str]] = {}
    for line in exc_lines:
        form, base = line.split("\t")
        exceptions.setdefault(form.lower(), []).append(base.lower())
    ordered = {k: tuple(sorted(v, key=lambda s: (s[1], s[0]))) for k, v in senses.items()}
    return WordNetNouns(tuple(wnids), tuple(lexnames), tuple(lemmas), hypernyms, instance, ordered,
                        {k: tuple(v) for k, v in exceptions.items()})


@dataclass(frozen=True)
class WordNetMapping:
    """Which WordNet synset each class name got, and why.

    Attributes
    ----------
    label_space
        The mapped label space.
    table
        One row per class: ``class_index``, ``class_key``, ``class_name``, ``synset`` (wnid, or
        ``None`` when unmapped), ``synset_name`` (its first lemma), ``lexname``, ``match``
        (``exact lemma``, ``base form``, ``head noun``, ``user file`` or ``unmapped``),
        ``lemma`` (the WordNet lemma that matched), ``n_senses`` (depictable noun senses of
        that lemma), ``sense_number`` (the chosen synset's rank in WordNet's sense order; 1 = most
        frequent), ``tag_count`` (its SemCor tag count), ``context_similarity`` (best
        Wu–Palmer similarity of the chosen sense to another class's sense, when the label space
        had a say), ``reason`` (one sentence).
    params
        ``context_margin`` and the map file, if any.
    """

    label_space: LabelSpace
    table: pd.DataFrame
    params: dict[str, Any] = field(default_factory=dict)

    def hierarchy(self) -> Hierarchy:
        """The mapping as a hierarchy over the class keys (see :func:`map_to_wordnet`).

        A class mapped by exact lemma, base form or user file takes its synset's place in the
        WordNet DAG (the node is the class key, its parents the synset's hypernyms); several
        classes mapped to one synset, and head-noun matches, hang below the synset as its
        children. Unmapped classes are not in the hierarchy (the categoriser says so).
        """
        nouns = wordnet_nouns()
        mapped = self.table[self.table["synset"].notna()]
        rows = [nouns.row(s) for s in mapped["synset"]]
        base = nouns.hierarchy(rows, source=self.params.get("source", "WordNet 3.0 (mapped from class names)"))
        parents = dict(base.parents)
        names = dict(base.names)
        lexnames = dict(base.lexnames)
        shared = mapped.groupby("synset")["class_key"].transform("size") > 1
        takes_place = {s: k for s, k, m, many in zip(mapped["synset"], mapped["class_key"], mapped["match"], shared)
                       if m != "head noun" and not many}
        for synset, key, name in zip(mapped["synset"], mapped["class_key"], mapped["class_name"]):
            if takes_place.get(synset) == key:
                parents[key] = parents.pop(synset)
                names.pop(synset, None)
            else:
                parents[key] = (synset,)
            names[key] = name
            lexnames[key] = lexnames.get(synset, "")
        renamed = {p: takes_place.get(p, p) for ps in parents.values() for p in ps}
        parents = {child: tuple(renamed[p] for p in ps) for child, ps in parents.items()}
        lexnames = {takes_place.get(n, n): v for n, v in lexnames.items()}
        return Hierarchy(parents, names, source=base.source, lexnames=lexnames)


def _normalised(name: str) -> str:
    return " ".join(str(name).replace("_", " ").split()).lower()


def _lookups(nouns: WordNetNouns, text: str) -> list[tuple[str, str]]:
    """(match kind, lemma) of the first rule that finds noun senses: exact, base form, head noun."""
    variants = [text, text.replace("-", " "), text.replace(" ", "-")]
    for v in dict.fromkeys(variants):
        if v in nouns.senses:
            return [("exact lemma", v)]
    bases = list(nouns.exceptions.get(text, ()))
    for ending, replacement in _SUFFIXES:
        if text.endswith(ending) and len(text) > len(ending) + 1:
            bases.append(text[: -len(ending)] + replacement)
    found = [("base form", b) for b in dict.fromkeys(bases) if b in nouns.senses]
    if found:
        return found[:1]
    words = text.split(" ")
    if len(words) > 1:
        head = _lookups(nouns, words[-1])
        if head and head[0][0] != "head noun":
            return [("head noun", head[0][1])]
    return []


def _preference(candidates: Sequence[tuple[int, int, int]]) -> str:
    """Why the first of the sorted candidates leads: its tag count, or the lexicographer-file prior."""
    first, second = candidates[0], candidates[1]
    if first[2] > second[2]:
        return f"the most frequent (tag count {first[2]} vs {second[2]})"
    lexnames = wordnet_nouns().lexnames
    a, b = lexnames[first[0]], lexnames[second[0]]
    if a != b:
        return (f"no tag count ranks them; {a} holds more ImageNet-1k classes ({IMAGE_LEXNAME_COUNTS.get(a, 0)}) "
                f"than {b} ({IMAGE_LEXNAME_COUNTS.get(b, 0)})")
    return "no tag count ranks them; the first in WordNet's order"


def _describe(nouns: WordNetNouns, row: int) -> str:
    return f"{nouns.wnids[row]} '{nouns.name(row)}' ({nouns.lexnames[row]})"


def _best_similarity(nouns: WordNetNouns, row: int, owner: int,
                     best: dict[int, list[tuple[int, int]]], depth: dict[int, int]) -> float:
    """Best Wu–Palmer similarity of synset ``row`` to any other class's provisional sense.

    Wu–Palmer through a common ancestor x is ``2 D(x) / (2 D(x) + up(row, x) + up(other, x))``
    with D the shortest depth below *entity*; the best over all common ancestors is taken.
    """
    score = 0.0
    for x, hops in nouns.ancestors(row).items():
        for other_hops, other_owner in best.get(x, ()):
            if other_owner == owner or hops + other_hops == 0:  # itself, or another class on the same synset
                continue
            d = depth[x]
            if d:
                score = max(score, 2 * d / (2 * d + hops + other_hops))
            break
    return score


def map_to_wordnet(
    label_space: LabelSpace | Sequence[str],
    *,
    corrections: Mapping[str, str | None] | str | Path | None = None,
    context_margin: float = 0.2,
) -> WordNetMapping:
    """Map every class name to a WordNet 3.0 noun synset (module docstring), with the reason.

    Parameters
    ----------
    label_space
        A :class:`~relabel.labelspace.LabelSpace` or a list of class names.
    corrections
        ``{class_key: wnid or None}``, or a CSV file of ``class_key,synset`` rows
        (:func:`load_wordnet_map`); these rows override the automatic choice.
    context_margin
        How much closer (in Wu–Palmer similarity) to the other classes a less frequent sense
        must be before it replaces the most frequent one.

    Examples
    --------
    The rodent among animals, the computer mouse among office things, nothing for a numeral:

    >>> animals = map_to_wordnet(["cat", "dog", "mouse", "IV"]).table
    >>> animals[["class_name", "synset", "lexname", "match"]].values.tolist()  # doctest: +NORMALIZE_WHITESPACE
    [['cat', 'n02121620', 'noun.animal', 'exact lemma'], ['dog', 'n02084071', 'noun.animal', 'exact lemma'],
     ['mouse', 'n02330245', 'noun.animal', 'exact lemma'], ['IV', None, None, 'unmapped']]
    >>> office = map_to_wordnet(["keyboard", "monitor", "mouse"]).table
    >>> office[["class_name", "synset", "lexname"]].values.tolist()  # doctest: +NORMALIZE_WHITESPACE
    [['keyboard', 'n03614007', 'noun.artifact'], ['monitor', 'n03782190', 'noun.artifact'],
     ['mouse', 'n03793489', 'noun.artifact']]
    """
    space = label_space if isinstance(label_space, LabelSpace) else LabelSpace.from_names(list(label_space))
    if not 0 <= context_margin <= 1:
        raise InputError(f"map_to_wordnet: context_margin must lie in [0, 1]; got {context_margin!r}")
    nouns = wordnet_nouns()
    source = None
    if corrections is not None and not isinstance(corrections, Mapping):
        source = str(corrections)
        corrections = load_wordnet_map(corrections, space)
    corrections = dict(corrections or {})
    unknown = [k for k in corrections if k not in set(space.keys)]
    if unknown:
        raise InputError(f"WordNet map: class keys not in label space {space.name!r}: {format_offenders(unknown)}")

    found: list[dict[str, Any]] = []
    for i, (key, name) in enumerate(zip(space.keys, space.names)):
        text = _normalised(name)
        rec: dict[str, Any] = {"class_index": i, "class_key": key, "class_name": name, "candidates": [],
                               "match": "unmapped", "lemma": None, "reason": ""}
        if key in corrections:
            wnid = corrections[key]
            if wnid is None:
                rec["reason"] = "left unmapped by the WordNet map file"
            else:
                row = nouns.row(wnid)
                rec.update(match="user file", candidates=[(row, 1, 0)], lemma=nouns.name(row),
                           reason=f"given by the WordNet map file: {_describe(nouns, row)}")
            found.append(rec)
            continue
        if len(text.replace(" ", "")) <= 1:
            rec["reason"] = f"{name!r} is a single character; WordNet's senses of it are symbols, not depicted things"
            found.append(rec)
            continue
        if _ROMAN.fullmatch(text.replace(" ", "")) and text.replace(" ", "").upper() == str(name).strip().upper():
            rec["reason"] = (f"{name!r} reads as a Roman numeral; WordNet's noun senses of it are numbers "
                             f"(or unrelated senses such as 'intravenous feeding'), not depicted things")
            found.append(rec)
            continue
        lookups = _lookups(nouns, text)
        if not lookups:
            rec["reason"] = f"no WordNet noun has the lemma {text!r} (nor a base form or, for several words, the last word)"
            found.append(rec)
            continue
        match, lemma = lookups[0]
        all_senses = nouns.senses[lemma]
        keep = [s for s in all_senses if nouns.is_depictable(s[0])]
        if not keep:
            listed = "; ".join(_describe(nouns, s[0]) + (" (a named individual)" if nouns.is_instance[s[0]] else "")
                               for s in all_senses[:4])
            rec["reason"] = (f"WordNet's noun senses of {lemma!r} are not things an image class shows: {listed}"
                             + (f" and {len(all_senses) - 4} more" if len(all_senses) > 4 else ""))
            found.append(rec)
            continue
        rec.update(match=match, lemma=lemma, candidates=keep)
        found.append(rec)

    for rec in found:  # most frequent first; among equal tag counts, the commoner kind of image class
        rec["candidates"] = sorted(rec["candidates"], key=lambda c: (-c[2], -IMAGE_LEXNAME_COUNTS.get(
            nouns.lexnames[c[0]], 0), c[1]))
    provisional = {r["class_index"]: r["candidates"][0][0] for r in found if r["candidates"]}
    depth: dict[int, int] = {}
    best: dict[int, list[tuple[int, int]]] = {}
    root = nouns.row(ROOT)
    for owner, row in provisional.items():
        up = nouns.ancestors(row)
        for x, hops in up.items():
            entries = best.setdefault(x, [])
            entries.append((hops, owner))
            entries.sort()
            del entries[2:]
    for x in best:
        if x not in depth:
            depth[x] = nouns.ancestors(x)[root]

    rows = []
    for rec in found:
        candidates = rec.pop("candidates")
        out = {**rec, "synset": None, "synset_name": None, "lexname": None, "n_senses": len(candidates) or None,
               "sense_number": None, "tag_count": None, "context_similarity": np.nan}
        if candidates:
            chosen = candidates[0]
            if rec["match"] != "user file" and len(candidates) > 1 and len(provisional) > 1:
                scores = [_best_similarity(nouns, c[0], rec["class_index"], best, depth) for c in candidates]
                top = 0
                for k in range(1, len(candidates)):
                    # tag counts rank senses only where they differ; equal counts leave it to the context
                    need = context_margin if candidates[0][2] > candidates[k][2] else 1e-9
                    if scores[k] - scores[0] >= need and scores[k] > scores[top]:
                        top = k
                chosen = candidates[top]
                if top:
                    why = ("it is much closer to the other classes" if candidates[0][2] > chosen[2] else
                           "WordNet's tag counts do not rank the two, and it is closer to the other classes")
                    out["reason"] = (
                        f"{len(candidates)} depictable senses of {rec['lemma']!r}; chose sense {chosen[1]} "
                        f"{_describe(nouns, chosen[0])} over {_describe(nouns, candidates[0][0])}: "
                        f"{why} (Wu-Palmer {scores[top]:.2f} vs {scores[0]:.2f})")
                else:
                    out["reason"] = (
                        f"{len(candidates)} depictable senses of {rec['lemma']!r}; chose sense {chosen[1]} "
                        f"{_describe(nouns, chosen[0])}: {_preference(candidates)} (Wu-Palmer to the nearest "
                        f"other class {scores[0]:.2f})")
                out["context_similarity"] = scores[top]
            elif rec["match"] != "user file":
                dropped = len(nouns.senses[rec["lemma"]]) - len(candidates)
                out["reason"] = (f"the only depictable sense of {rec['lemma']!r}: {_describe(nouns, chosen[0])}"
                                 + (f" ({dropped} other senses are not things in a photograph)" if dropped else "")
                                 if len(candidates) == 1 else
                                 f"{len(candidates)} depictable senses of {rec['lemma']!r}; chose sense {chosen[1]} "
                                 f"{_describe(nouns, chosen[0])}: {_preference(candidates)}")
            if rec["match"] == "head noun":
                out["reason"] = f"{rec['class_name']!r} is not in WordNet; placed under its last word: " + out["reason"]
            elif rec["match"] == "base form":
                out["reason"] = f"base form {rec['lemma']!r}: " + out["reason"]
            out.update(synset=nouns.wnids[chosen[0]], synset_name=nouns.name(chosen[0]),
                       lexname=nouns.lexnames[chosen[0]], sense_number=chosen[1], tag_count=chosen[2])
        rows.append(out)
    table = pd.DataFrame(rows, columns=["class_index", "class_key", "class_name", "synset", "synset_name", "lexname",
                                        "match", "lemma", "n_senses", "sense_number", "tag_count",
                                        "context_similarity", "reason"])
    for column in ("n_senses", "sense_number", "tag_count"):
        table[column] = pd.array(table[column].tolist(), dtype="Int64")
    for column in ("synset", "synset_name", "lexname", "lemma"):
        table[column] = table[column].astype(object).where(table[column].notna(), None)
    params = {"context_margin": context_margin, "map_file": source}
    return WordNetMapping(space, table, params)


def load_wordnet_map(path: str | Path, label_space: LabelSpace | None = None) -> dict[str, str | None]:
    """Read a ``class_key,synset`` CSV (``synset``: a wnid such as ``n02121620``, or empty for none).

    Repeated keys, unknown wnids and (given ``label_space``) unknown class keys are errors that
    name the file, the column and the first offenders.
    """
    table = _tables.read_csv(Path(path), all_text=True, error=InputError)
    where = str(path)
    key_col = _tables.pick_column(table.columns, ["class_key", "key"], where=where, field="class key")
    synset_col = _tables.pick_column(table.columns, ["synset", "wnid"], where=where, field="synset")
    keys = table[key_col].str.strip()
    synsets = table[synset_col].str.strip()
    twice = keys[keys.duplicated()].unique().tolist()
    if twice:
        raise InputError(f"{where}, column {key_col!r}: each class key may appear once; repeated: {format_offenders(twice)}")
    nouns = wordnet_nouns()
    bad = [s for s in synsets if s and (not _WNID.fullmatch(s) or s not in nouns)]
    if bad:
        raise InputError(f"{where}, column {synset_col!r}: not WordNet 3.0 noun synset ids (n + 8-digit offset): "
                         f"{format_offenders(bad)}")
    if label_space is not None:
        unknown = [k for k in keys if k not in set(label_space.keys)]
        if unknown:
            raise InputError(f"{where}, column {key_col!r}: class keys not in label space {label_space.name!r}: "
                             f"{format_offenders(unknown)}")
    return {k: (s or None) for k, s in zip(keys, synsets)}
