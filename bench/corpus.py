"""A deterministic benchmark corpus, written twice: as our JSONL and as a jrnl journal.

Usage::

    python bench/corpus.py --size 100k [--seed 8] [--out bench/data/corpus]

The same seed and size always give the same bytes (Python's ``random.Random`` is
stable across versions for ``random()``, ``getrandbits()`` and ``choices()``
with cumulative weights). Entries are generated and written one at a time, so
1,000,000 entries never sit in memory.

What an entry looks like, and why:

- dates: spread evenly over ten years from 2014-01-01, one entry per slot with
  a random minute inside it, so the file is in date order; minute precision in
  UTC, because jrnl stores naive minutes (the runner sets TZ=UTC for both tools);
- a title of 3 to 7 words ending in "." (jrnl takes the first sentence as title);
- a body of about 100 words (30 to 200) in sentences, in paragraphs, drawn from
  a 40,000-word vocabulary with a Zipf curve (s = 1): common English words at
  the top ranks, made-up words below, the way real text has a long tail;
- 0 to 3 tags (25/40/22/13 %) from a fixed tree of 2,000 tags, 6 levels deep,
  chosen with a Zipf curve over the tree in breadth-first order, so top-level
  and shallow tags are the popular ones; the benchmark's TOP tag is the
  top-level tag whose subtree holds the most entries (about 15 %);
- about 5 % starred;
- marker words that occur inside no other word, each in an exact share of the
  entries (MARKERS below); ``manifest.json`` records the counts.

jrnl has no tag hierarchy, but its tag pattern (``@[-+*#/\\w]+``) accepts ``/``,
so a tag path ``work/acme/meetings`` is written as the jrnl tag
``@work/acme/meetings``, unchanged. jrnl keeps tags inside the text: they are
written as a last line of the body (our JSONL keeps them in "tags" only).
"""

import argparse
import bisect
import datetime as dt
import itertools
import json
import os
import random
import sys
import uuid

# marker word -> it occurs (once) in exactly one entry of every block of this
# many consecutive entries, at a random place in the block: 1 %, 10 %, 0.1 %.
MARKERS = {"quetzal": 100, "harbour": 10, "zephyr": 1000}
RARE_WORD = "quetzal"
COMMON_WORD = "harbour"

VOCABULARY_SIZE = 40_000
TAG_COUNT = 2_000
TAG_LEVELS = 6
STARRED = 0.05
TAGS_PER_ENTRY = ((0, 0.25), (1, 0.40), (2, 0.22), (3, 0.13))
START = dt.datetime(2014, 1, 1, tzinfo=dt.timezone.utc)
SPAN_MINUTES = 10 * 365 * 24 * 60

SIZES = {"1k": 1_000, "10k": 10_000, "100k": 100_000, "1m": 1_000_000}

# The top of an English frequency list, in rank order (rank 1 = "the").
COMMON = """the of and to a in is it you that he was for on are with as i his they be at
one have this from or had by not word but what some we can out other were all there when
up use your how said an each she which do their time if will way about many then them
write would like so these her long make thing see him two has look more day could go come
did number sound no most people my over know water than call first who may down side been
now find any new work part take get place made live where after back little only round man
year came show every good me give our under name very through just form sentence great think
say help low line differ turn cause much mean before move right boy old too same tell does
set three want air well also play small end put home read hand port large spell add even
land here must big high such follow act why ask men change went light kind off need house
picture try us again animal point mother world near build self earth father head stand own
page should country found answer school grow study still learn plant cover food sun four
between state keep eye never last let thought city tree cross farm hard start might story
saw far sea draw left late run while press close night real life few north open seem
together next white children begin got walk example ease paper group always music those both
mark often letter until mile river car feet care second book carry took science eat room
friend began idea fish mountain stop once base hear horse cut sure watch color face wood
main enough plain girl usual young ready above ever red list though feel talk bird soon body
dog family direct pose leave song measure door product black short numeral class wind
question happen complete ship area half rock order fire south problem piece told knew pass
since top whole king space heard best hour better true during hundred five remember step
early hold west ground interest reach fast verb sing listen six table travel less morning
ten simple several vowel toward war lay against pattern slow center love person money serve
appear road map rain rule govern pull cold notice voice unit power town fine certain fly
fall lead cry dark machine note wait plan figure star box noun field rest correct able
pound done beauty drive stood contain front teach week final gave green oh quick develop
ocean warm free minute strong special mind behind clear tail produce fact street inch
multiply nothing course stay wheel full force blue object decide surface deep moon island
foot system busy test record boat common gold possible plane stead dry wonder laugh thousand
ago ran check game shape equate hot miss brought heat snow tire bring yes distant fill east
paint language among""".split()

ONSETS = ("b c d f g h j k l m n p r s t v w z bl br ch cl cr dr fl fr gl gr kn pl pr "
          "sc sh sk sl sm sn sp st sw th tr tw wh").split()
VOWELS = "a e i o u a e i o u ai ea ee ie oa oo ou".split()
CODAS = ("", "", "", "n", "r", "s", "t", "l", "m", "nd", "st", "rk", "ng", "ck", "sh", "th")


class Corpus:
    """The vocabulary, the tag tree and the generator state for one seed."""

    def __init__(self, seed):
        self.seed = seed
        rng = random.Random(("vocabulary", seed).__repr__())
        self.vocabulary = self._vocabulary(rng)
        # Zipf, s = 1: weight of rank r is 1/r.
        self.word_cum = list(itertools.accumulate(1.0 / r for r in
                                                  range(1, len(self.vocabulary) + 1)))
        rng = random.Random(("tags", seed).__repr__())
        self.tags = self._tag_tree(rng)  # paths in breadth-first order
        weights = [1.0 / r ** 0.9 for r in range(1, len(self.tags) + 1)]
        self.tag_cum = list(itertools.accumulate(weights))
        # The benchmark's TOP tag: the top-level tag whose subtree is drawn most.
        reach = {}
        for path, w in zip(self.tags, weights):
            reach[path.split("/")[0]] = reach.get(path.split("/")[0], 0) + w
        self.top_tag = max(reach, key=reach.get)

    @staticmethod
    def _clean(word):
        return not any(m in word for m in MARKERS)

    def _vocabulary(self, rng):
        words = list(dict.fromkeys(COMMON))
        seen = set(words)
        while len(words) < VOCABULARY_SIZE:
            w = "".join(rng.choice(ONSETS) + rng.choice(VOWELS) + rng.choice(CODAS)
                        for _ in range(rng.choice((1, 1, 2, 2, 2, 3))))
            if w not in seen and self._clean(w) and 3 <= len(w) <= 16:
                seen.add(w)
                words.append(w)
        return words

    def _tag_tree(self, rng):
        roots = ["work", "home", "health", "travel", "reading", "family", "friends",
                 "projects", "money", "learning", "garden", "music"]
        nodes = [(r,) for r in roots]
        names = {(): set(roots)}
        # Grow the tree by attaching each new tag below a random existing one,
        # half the time one of the upper three levels (wide, bushy tops), down
        # to TAG_LEVELS levels.
        while len(nodes) < TAG_COUNT:
            parent = rng.choice(nodes)
            if len(parent) >= TAG_LEVELS or (len(parent) > 3 and rng.random() < 0.5):
                continue
            name = rng.choice(self.vocabulary[300:5000])
            if name in names.setdefault(parent, set()):
                continue
            names[parent].add(name)
            nodes.append(parent + (name,))
        assert max(map(len, nodes)) == TAG_LEVELS
        order = sorted(range(len(nodes)), key=lambda i: (len(nodes[i]), i))
        return ["/".join(nodes[i]) for i in order]

    def _words(self, rng, k):
        cum, vocab, total = self.word_cum, self.vocabulary, self.word_cum[-1]
        return [vocab[bisect.bisect(cum, rng.random() * total)] for _ in range(k)]

    def entries(self, n):
        """Yield n entries as dicts in our export shape, oldest first."""
        rng = random.Random(("entries", self.seed, n).__repr__())
        slot = SPAN_MINUTES / n
        tag_total = self.tag_cum[-1]
        counts, weights = zip(*TAGS_PER_ENTRY)
        chosen = {}
        for i in range(n):
            minute = int(i * slot + rng.random() * slot)
            when = (START + dt.timedelta(minutes=minute)).isoformat()
            title = self._words(rng, rng.randint(3, 7))
            title[0] = title[0].capitalize()
            words = self._words(rng, max(30, min(200, int(rng.gauss(100, 25)))))
            for marker, block in MARKERS.items():
                if i % block == 0:
                    chosen[marker] = i + rng.randrange(block)
                if chosen[marker] == i:
                    words.insert(rng.randrange(len(words) + 1), marker)
            paragraphs, sentences, pos = [], [], 0
            while pos < len(words):
                k = rng.randint(6, 18)
                sentence = words[pos:pos + k]
                sentence[0] = sentence[0].capitalize()
                sentences.append(" ".join(sentence) + ".")
                pos += k
                if rng.random() < 0.25:
                    paragraphs.append(" ".join(sentences))
                    sentences = []
            if sentences:
                paragraphs.append(" ".join(sentences))
            tags = []
            for _ in range(rng.choices(counts, weights)[0]):
                tag = self.tags[bisect.bisect(self.tag_cum, rng.random() * tag_total)]
                if tag not in tags:
                    tags.append(tag)
            yield {
                "uuid": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "created_at": when,
                "updated_at": when,
                "title": " ".join(title) + ".",
                "body": "\n\n".join(paragraphs),
                "starred": rng.random() < STARRED,
                "tags": tags,
            }


def jrnl_text(entry):
    """The entry as jrnl 4.6 writes it (Entry.__str__ with timeformat %Y-%m-%d %H:%M)."""
    when = entry["created_at"][:16].replace("T", " ")
    head = "[%s] %s%s" % (when, entry["title"], " *" if entry["starred"] else "")
    body = entry["body"]
    if entry["tags"]:
        body += "\n\n" + " ".join("@" + t for t in entry["tags"])
    return "%s\n%s\n" % (head, body)


def parse_size(text):
    text = text.strip().lower()
    if text in SIZES:
        return SIZES[text]
    if text.endswith("k"):
        return int(float(text[:-1]) * 1000)
    if text.endswith("m"):
        return int(float(text[:-1]) * 1_000_000)
    return int(text)


def size_label(n):
    for label, value in SIZES.items():
        if value == n:
            return label
    return str(n)


def subtree(paths, top):
    return [p for p in paths if p == top or p.startswith(top + "/")]


def write(n, seed, out):
    """Write entries.jsonl, journal.txt and, last, manifest.json under ``out``.

    Returns the manifest. An existing complete corpus (its manifest present) is
    reused as is.
    """
    manifest_path = os.path.join(out, "manifest.json")
    if os.path.exists(manifest_path):
        with open(manifest_path) as f:
            return json.load(f)
    os.makedirs(out, exist_ok=True)
    corpus = Corpus(seed)
    marker_counts = dict.fromkeys(MARKERS, 0)
    starred = tagged = words = 0
    tag_uses = {}
    top = subtree(corpus.tags, corpus.top_tag)
    top_set = set(top)
    top_entries = 0
    jsonl_tmp = os.path.join(out, "entries.jsonl.tmp")
    jrnl_tmp = os.path.join(out, "journal.txt.tmp")
    with open(jsonl_tmp, "w", encoding="utf-8") as js, \
            open(jrnl_tmp, "w", encoding="utf-8") as jr:
        first = True
        for e in corpus.entries(n):
            js.write(json.dumps(e, ensure_ascii=False) + "\n")
            # jrnl joins entries with a blank line (Journal._to_text).
            jr.write(("" if first else "\n") + jrnl_text(e))
            first = False
            text = (e["title"] + " " + e["body"]).lower()
            words += len(text.split())
            for m in MARKERS:
                if m in text:
                    marker_counts[m] += 1
            starred += e["starred"]
            tagged += bool(e["tags"])
            top_entries += any(t in top_set for t in e["tags"])
            for t in e["tags"]:
                tag_uses[t] = tag_uses.get(t, 0) + 1
    os.replace(jsonl_tmp, os.path.join(out, "entries.jsonl"))
    os.replace(jrnl_tmp, os.path.join(out, "journal.txt"))
    manifest = {
        "entries": n,
        "seed": seed,
        "words": words,
        "vocabulary": len(corpus.vocabulary),
        "starred": starred,
        "tagged": tagged,
        "tags_in_tree": len(corpus.tags),
        "tags_used": len(tag_uses),
        "tag_levels": max(t.count("/") + 1 for t in corpus.tags),
        "markers": marker_counts,
        "rare_word": RARE_WORD,
        "common_word": COMMON_WORD,
        "top_tag": corpus.top_tag,
        "top_tag_subtree": top,
        "top_tag_entries": top_entries,
        "jsonl_bytes": os.path.getsize(os.path.join(out, "entries.jsonl")),
        "journal_bytes": os.path.getsize(os.path.join(out, "journal.txt")),
    }
    with open(manifest_path + ".tmp", "w") as f:
        json.dump(manifest, f, indent=1)
    os.replace(manifest_path + ".tmp", manifest_path)
    return manifest


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--size", default="10k", help="1k, 10k, 100k, 1m or a number")
    p.add_argument("--seed", type=int, default=8)
    p.add_argument("--out", help="directory (default bench/data/corpus/SEED-SIZE)")
    args = p.parse_args(argv)
    n = parse_size(args.size)
    out = args.out or os.path.join(os.path.dirname(os.path.abspath(__file__)), "data",
                                   "corpus", "%d-%s" % (args.seed, size_label(n)))
    m = write(n, args.seed, out)
    summary = {k: v for k, v in m.items() if k != "top_tag_subtree"}
    json.dump(summary, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
