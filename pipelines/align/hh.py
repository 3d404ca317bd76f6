#!/usr/bin/python3
"""The HH-RLHF slice as the alignment study's data (pipelines/align.mk with DATA=...).

    hh.py TEST_JSONL_GZ OUTDIR

Each row of Anthropic's hh-rlhf (harmless-base/test.jsonl.gz: {"chosen", "rejected"},
whole dialogues of "\\n\\nHuman: " and "\\n\\nAssistant: " turns that differ in their last
answer) becomes a pair: the prompt is the last Human turn (its last 300 characters)
followed by "\\n\\nAssistant:", the answers the two last Assistant turns (each cut to
300 characters), so that a pair fits the model's context of 256 tokens.  Rows whose two
dialogues differ before their last answer, or with an empty answer, are dropped.  Writes,
as world.py does: corpus.jsonl (every dialogue's last exchange, chosen and rejected, for
pretraining), sft.jsonl (prompt, response: the chosen answers of the training pairs),
pairs-hh.jsonl (the first 2000 pairs), heldout-pairs.jsonl (the rest), and empty
heldout-prompts.jsonl and downstream.jsonl (no judge, no downstream task here).
"""
import gzip
import json
import os
import sys

ASSISTANT = "\n\nAssistant:"
HUMAN = "\n\nHuman:"
TRAIN = 2000


def split(dialogue):
    """(prompt, answer): the last Human turn and the answer after it."""
    cut = dialogue.rfind(ASSISTANT)
    head, answer = dialogue[:cut], dialogue[cut + len(ASSISTANT):]
    human = head.rfind(HUMAN)
    turn = head[human + len(HUMAN):].strip()[-300:]
    return head, HUMAN + " " + turn + ASSISTANT, answer.strip()[:300]


def main():
    src, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    pairs = []
    with gzip.open(src, "rt", encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            hc, prompt, chosen = split(row["chosen"])
            hr, _, rejected = split(row["rejected"])
            if hc != hr or not chosen or not rejected or chosen == rejected:
                continue
            pairs.append({"id": len(pairs), "prompt": prompt, "chosen": " " + chosen,
                          "rejected": " " + rejected})

    def write(name, rows):
        with open(os.path.join(out, name), "w", encoding="utf-8") as f:
            for row in rows:
                f.write(json.dumps(row) + "\n")

    train, held = pairs[:TRAIN], pairs[TRAIN:]
    write("corpus.jsonl", [{"text": p["prompt"] + p[k]} for p in train for k in
                           ("chosen", "rejected")])
    write("sft.jsonl", [{"prompt": p["prompt"], "response": p["chosen"]} for p in train])
    write("pairs-hh.jsonl", train)
    write("heldout-pairs.jsonl", held)
    write("heldout-prompts.jsonl", [])
    write("downstream.jsonl", [])
    print(f"hh.py: {len(pairs)} pairs: {len(train)} to train on, {len(held)} held out")


if __name__ == "__main__":
    main()
