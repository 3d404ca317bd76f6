#!/usr/bin/python3
"""Reference GPT-2 tokenizer: the fixtures runnel's tokenize is checked against.

An independent implementation of OpenAI's original GPT-2 encoder (encoder.py in
github.com/openai/gpt-2): bytes_to_unicode(), the pre-tokenization regex run by the
`regex` module, and the rank-based merge loop.  Special tokens are handled as tiktoken
does when they are allowed: the text is cut at them first.

GPT-2's vocab.json follows from merges.txt: ids 0..255 are the 256 characters of
bytes_to_unicode() in the order of its byte list, id 256+i is the result of merge i, and
50256 is <|endoftext|>.  This script builds it that way, checks it against token ids of
the real GPT-2 tokenizer that are public knowledge, and writes

    vocab.json.gz    GPT-2's vocab.json, as compact JSON in id order
    expected.jsonl   {"text", "allow_special", "tokens"} for each fixture text

Usage (from the repository root; needs Debian's python3-regex):
    /usr/bin/python3 tests/ref/gpt2/gpt2_ref.py [MERGES [OUTDIR]]
MERGES defaults to tests/ref/gpt2/merges.txt.gz (the real GPT-2 merges, 50,000 of them);
any merges.txt works, e.g. one exported by tokenize, but only GPT-2's gets the pinned ids
checked.
"""
import gzip
import json
import os
import sys

import regex

PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
EOT = "<|endoftext|>"


def bytes_to_unicode():
    """OpenAI's table: each byte to a printable character (printable Latin-1 to itself)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) \
        + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return bs, dict(zip(bs, map(chr, cs)))


def read_merges(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8", newline="\n") as f:
        lines = f.read().split("\n")
    assert lines[0].startswith("#version"), "merges file must start with #version"
    return [tuple(line.split(" ")) for line in lines[1:] if line]


def build_vocab(merges):
    order, byte_char = bytes_to_unicode()
    vocab = [byte_char[b] for b in order] + ["".join(m) for m in merges] + [EOT]
    encoder = {tok: i for i, tok in enumerate(vocab)}
    assert len(encoder) == len(vocab), "merge results repeat"
    return encoder


class Encoder:
    def __init__(self, merges):
        self.encoder = build_vocab(merges)
        self.ranks = {m: i for i, m in enumerate(merges)}
        self.byte_char = bytes_to_unicode()[1]
        self.pat = regex.compile(PATTERN)
        self.cache = {}

    def bpe(self, token):
        """OpenAI's merge loop: merge every occurrence of the lowest-rank pair, repeat."""
        if token in self.cache:
            return self.cache[token]
        word = list(token)
        while len(word) > 1:
            pairs = {(word[i], word[i + 1]) for i in range(len(word) - 1)}
            best = min(pairs, key=lambda p: self.ranks.get(p, float("inf")))
            if best not in self.ranks:
                break
            first, second = best
            out, i = [], 0
            while i < len(word):
                try:
                    j = word.index(first, i)
                except ValueError:
                    out.extend(word[i:])
                    break
                out.extend(word[i:j])
                i = j
                if i < len(word) - 1 and word[i + 1] == second:
                    out.append(first + second)
                    i += 2
                else:
                    out.append(word[i])
                    i += 1
            word = out
        self.cache[token] = word
        return word

    def encode_ordinary(self, text):
        ids = []
        for chunk in regex.findall(self.pat, text):
            spelled = "".join(self.byte_char[b] for b in chunk.encode("utf-8"))
            ids.extend(self.encoder[t] for t in self.bpe(spelled))
        return ids

    def encode(self, text, allow_special=False):
        if not allow_special:
            return self.encode_ordinary(text)
        ids = []
        parts = text.split(EOT)
        for k, part in enumerate(parts):
            if k:
                ids.append(self.encoder[EOT])
            ids.extend(self.encode_ordinary(part))
        return ids


# Token ids of the real GPT-2 tokenizer, as published in countless places.
PINNED = [
    ("hello world", False, [31373, 995]),
    ("Hello, world!", False, [15496, 11, 995, 0]),
    (" the", False, [262]),
    (EOT, True, [50256]),
]

TEXTS = [
    "The quick brown fox jumps over the lazy dog.",
    "It's a truth universally acknowledged; isn't it? We'll see, they'd say, you're right, I'm sure, we've won.",
    "IT'S SHOUTED: DON'T, WON'T, CAN'T.",
    "Numbers: 0, 7, 42, 1234567890, 3.14159, -273.15, 1e10, 2024-11-27, $19.99, 50%",
    "Punctuation!!! ... ?!? (parens) [brackets] {braces} <angle> \"quotes\" 'single' `back` ~tilde~ @at #hash ^caret &amp; *star* _under_ +plus= |pipe| \\back\\slash/",
    "  leading spaces, trailing spaces   ",
    "multiple    internal     spaces and\ttabs\t\tand\t \tmixed",
    "line one\nline two\n\nparagraph two\r\nwindows line\n\n\n",
    "   \n\t  \n",
    "Accents: café, naïve, résumé, Zürich, São Paulo, Ærøskøbing, Łódź, Ñandú",
    "Ελληνικά και русский текст, עִבְרִית, العربية",
    "CJK: 日本語のテキスト、中文文本，한국어 텍스트。",
    "Emoji: 😀 👍🏽 👨‍👩‍👧‍👦 🇫🇷 ❤️ and symbols ™ © ® € £ ¥ → ∑ ∞",
    "Mixed123abc456 and snake_case_names and camelCaseNames and kebab-case-names",
    "https://example.com/path?query=1&other=two#frag and user@example.org",
    "def f(x):\n    return x * 2  # comment\n\nprint(f(21))\n",
    "Control chars: \x00 nul, \x01 soh, \x07 bell, \x1b[0m escape, \x7f del",
    "Unicode spaces:\u00a0nbsp,\u2003em space,\u3000ideographic space, zero\u200bwidth",
    "Hello<|endoftext|>world",
    "a<|endoftext|>",
    "<|endoftext|><|endoftext|>",
    "",
    "x",
    "'s's's 's'll'LL'd'D",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "The year 1999 and 2000 and 12345678901234567890 digits.",
    "Soft\u00adhyphen and\u2028line separator and\u0085next line",
]


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    merges_path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "merges.txt.gz")
    outdir = sys.argv[2] if len(sys.argv) > 2 else here
    merges = read_merges(merges_path)
    enc = Encoder(merges)
    real_gpt2 = len(merges) == 50000
    if real_gpt2:
        assert len(enc.encoder) == 50257
        for text, allow, want in PINNED:
            got = enc.encode(text, allow)
            assert got == want, f"{text!r}: {got} != pinned {want}"
    with gzip.GzipFile(os.path.join(outdir, "vocab.json.gz"), "wb", mtime=0) as f:
        f.write(json.dumps(enc.encoder, ensure_ascii=False, separators=(",", ":")).encode())
    cases = [(t, a) for t, a, _ in PINNED] + [(t, False) for t in TEXTS] \
        + [(t, True) for t in TEXTS if EOT in t]
    with open(os.path.join(outdir, "expected.jsonl"), "w", encoding="utf-8") as f:
        for text, allow in cases:
            rec = {"text": text, "allow_special": allow, "tokens": enc.encode(text, allow)}
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
    print(f"{len(merges)} merges; pinned ids {'checked' if real_gpt2 else 'not checked'}; "
          f"{len(cases)} cases written to {outdir}")


if __name__ == "__main__":
    main()
