# pipelines/align.mk: the trade-offs of parameter-efficient preference alignment (Thakkar et
# al., 2024) at small scale.  SFT and DPO, with LoRA or QLoRA adapters, over two preference
# data sets, two starting models and four adapter ranks, each model judged on held-out
# pairs, on generated answers and on a task unrelated to the preference.
#
#   make -f pipelines/align.mk                      the whole grid: 2 x 2 x 2 x 4 x 2 = 64 runs
#   make -f pipelines/align.mk RANKS=4 METHODS=lora a part of it (any of the lists below)
#   make -f pipelines/align.mk DATA=../shared/data  the HH-RLHF slice instead of the world
#
# The world (pipelines/align/world.py) is dialogues in which a good answer follows four
# checkable rules (correct, polite, concise, safe: refuse harmful requests and only them).
# From it:
#   base       a gpt (4 layers, width 128, context 64) pretrained with `train` on dialogues
#              answered well and badly in equal measure, and on letter sequences
#   instruct   the base after `lora-tune` (LoRA rank 16, merged) on good answers to benign
#              questions: it answers, but was never shown a harmful request
#   plain      3000 preference pairs, the rejected answer breaking one rule, a quarter of
#              them with chosen and rejected swapped (annotator noise), no labels
#   labelled   the same pairs with per-answer labels (which answer follows the rules, which
#              rule the other breaks), as BeaverTails labels HH-RLHF-style pairs; the study
#              uses them to put each pair the right way round
# SFT trains on the chosen answers of a data set, DPO on its pairs.  Every trained model is
# merged and evaluated on 300 held-out pairs (implicit-reward accuracy against its
# starting model), on greedy answers to 33 held-out prompts (the judge of world.py's rules)
# and on the next-letter task (multiple choice by log-probability).  The base and instruct
# models are evaluated alike.  $(OUT)/table.md and $(OUT)/plot.svg sum it up.
#
# With DATA=DIR, the pairs are DIR/preference/hh-rlhf/harmless-base/test.jsonl.gz (the last
# Human/Assistant turn of each: 2000 pairs for training, 303 held out), the base is
# pretrained on their dialogues, the instruct model is SFT on their chosen answers; there
# is no judge and no downstream task, and DATASETS is hh.

OUT      ?= build/align
BIN      ?= bin
THREADS  ?= 2
SEED     ?= 1
TECHS    ?= sft dpo
STARTS   ?= base instruct
RANKS    ?= 1 4 16 64
METHODS  ?= lora qlora
ifdef DATA
DATASETS ?= hh
CONTEXT  ?= 256
VOCAB    ?= 2048
HH       := $(DATA)/preference/hh-rlhf/harmless-base/test.jsonl.gz
else
DATASETS ?= plain labelled
CONTEXT  ?= 64
VOCAB    ?= 400
endif

BASE_FLAGS     ?= --arch gpt --layers 4 --width 128 --heads 4 --context $(CONTEXT) -B 16 \
                  --steps 1500 --lr 3e-3 --warmup 100 --log-every 50
INSTRUCT_FLAGS ?= --lora --rank 16 --alpha 32 -B 16 --steps 300 --lr 2e-3 --log-every 50
SFT_FLAGS      ?= -B 16 --steps 200 --lr 1e-3 --log-every 50 -s $(SEED)
DPO_FLAGS      ?= -B 8 --steps 200 --lr 2e-4 --beta 0.1 --log-every 50 -s $(SEED)
export SFT_FLAGS DPO_FLAGS THREADS
export PATH := $(abspath $(BIN)):$(PATH)

PY   := /usr/bin/python3
HERE := pipelines/align
# jq programs: a labelled pair put the right way round by its labels (dropped when they
# do not tell); a held-out pair as two records to score; a downstream item as one record
# per choice
RIGHT_WAY_ROUND := select(.chosen_ok != .rejected_ok) | if .chosen_ok then . else . + {chosen: .rejected, rejected: .chosen} end
BOTH_ANSWERS    := {id, which: "chosen", prompt, text: .chosen}, {id, which: "rejected", prompt, text: .rejected}
EACH_CHOICE     := . as $$r | range(0; .choices | length) as $$i | {id, choice: $$i, answer, prompt, text: $$r.choices[$$i]}
CELLS := $(foreach t,$(TECHS),$(foreach d,$(DATASETS),$(foreach s,$(STARTS),\
           $(foreach r,$(RANKS),$(foreach m,$(METHODS),$(t)-$(d)-$(s)-r$(r)-$(m))))))
RESULTS := $(patsubst %,$(OUT)/runs/%/result.json,$(CELLS)) \
           $(patsubst %,$(OUT)/models/%.json,$(STARTS))

.PHONY: all clean
.DELETE_ON_ERROR:
# kept, but not .SECONDARY: make would not rebuild a missing result of an up-to-date table
.PRECIOUS: $(OUT)/runs/%/trained
all: $(OUT)/table.md

$(OUT)/table.md: $(RESULTS) $(HERE)/table.py
	$(PY) $(HERE)/table.py $(OUT) $(RESULTS)
	@cat $@

# ---- data ----

ifdef DATA
$(OUT)/world.stamp: $(HERE)/hh.py
	@test -f $(HH) || { echo "align.mk: $(HH) is missing (DATA=$(DATA))" >&2; exit 66; }
	@mkdir -p $(OUT)
	$(PY) $(HERE)/hh.py $(HH) $(OUT)
	@touch $@
else
$(OUT)/world.stamp: $(HERE)/world.py
	@mkdir -p $(OUT)
	$(PY) $(HERE)/world.py $(OUT) --seed $(SEED)
	@touch $@
endif

$(patsubst %,$(OUT)/%.mp,corpus sft pairs-plain pairs-hh): $(OUT)/%.mp: $(OUT)/world.stamp
	json2mp $(OUT)/$*.jsonl >$@

# The pairs of the labelled set, each put the right way round by its labels; the plain
# set as it is.
$(OUT)/pairs-labelled.mp: $(OUT)/world.stamp
	jq -c '$(RIGHT_WAY_ROUND)' $(OUT)/pairs-labelled.jsonl | json2mp >$@

# SFT on a data set: its chosen answers as responses.
$(OUT)/sft-%.mp: $(OUT)/pairs-%.mp
	mp2json $< | jq -c '{id, prompt, response: .chosen}' | json2mp >$@

$(OUT)/heldout-pairs.mp: $(OUT)/world.stamp
	jq -c '$(BOTH_ANSWERS)' $(OUT)/heldout-pairs.jsonl | json2mp >$@

# Prompts for generation, tokenized with <|endoftext|> first, as training saw them.
$(OUT)/heldout-prompts.mp: $(OUT)/world.stamp $(OUT)/bpe.tok
	if [ -s $(OUT)/heldout-prompts.jsonl ]; then \
	    jq -c '. + {text: ("<|endoftext|>" + .prompt)}' $(OUT)/heldout-prompts.jsonl | \
	    json2mp | tokenize encode -m $(OUT)/bpe.tok --allow-special | mp2json | \
	    jq -c '. + {prompt_tokens: .tokens} | del(.tokens)' | json2mp >$@; \
	else : >$@; fi

$(OUT)/downstream.mp: $(OUT)/world.stamp
	if [ -s $(OUT)/downstream.jsonl ]; then \
	    jq -c '$(EACH_CHOICE)' $(OUT)/downstream.jsonl | json2mp >$@; \
	else : >$@; fi

# ---- the two starting models ----

$(OUT)/bpe.tok: $(OUT)/corpus.mp
	tokenize learn -v $(VOCAB) -o $@ $<

$(OUT)/corpus.tokens.mp: $(OUT)/corpus.mp $(OUT)/bpe.tok
	tokenize encode -m $(OUT)/bpe.tok $< >$@

$(OUT)/base.ckpt: $(OUT)/corpus.tokens.mp
	train $(BASE_FLAGS) --tokenizer $(OUT)/bpe.tok -s $(SEED) -j $(THREADS) -o $@ $< \
	    >$(OUT)/base.metrics.mp

$(OUT)/instruct.ckpt: $(OUT)/base.ckpt $(OUT)/sft.mp
	lora-tune --base $(OUT)/base.ckpt $(INSTRUCT_FLAGS) -s $(SEED) -j $(THREADS) \
	    --merged $@ $(OUT)/sft.mp >$(OUT)/instruct.metrics.mp

# The held-out pairs scored by each starting model: the reference of the implicit reward.
$(OUT)/ref-%.mp: $(OUT)/%.ckpt $(OUT)/heldout-pairs.mp
	score -m $< -j $(THREADS) $(OUT)/heldout-pairs.mp >$@

$(OUT)/models/%.json: $(OUT)/%.ckpt $(OUT)/ref-%.mp $(OUT)/heldout-prompts.mp \
                      $(OUT)/downstream.mp $(HERE)/evaluate.py
	@mkdir -p $(OUT)/models
	set -e; args=""; \
	if [ -s $(OUT)/heldout-prompts.mp ]; then \
	    sample -m $< --greedy -n 24 -j $(THREADS) $(OUT)/heldout-prompts.mp \
	        >$(OUT)/models/$*.generated.mp; \
	    args="--generated $(OUT)/models/$*.generated.mp"; fi; \
	if [ -s $(OUT)/downstream.mp ]; then \
	    score -m $< -j $(THREADS) $(OUT)/downstream.mp >$(OUT)/models/$*.downstream.mp; \
	    args="$$args --downstream $(OUT)/models/$*.downstream.mp"; fi; \
	$(PY) $(HERE)/evaluate.py --name $* --pairs $(OUT)/ref-$*.mp $$args tech=none \
	    start=$* >$@

# ---- the grid ----

# Training a cell does not depend on the evaluation's script, which can change without
# training anything again; changing SFT_FLAGS or DPO_FLAGS needs the cells removed.
$(OUT)/runs/%/trained: $(foreach s,$(STARTS),$(OUT)/$(s).ckpt) \
        $(foreach d,$(DATASETS),$(OUT)/pairs-$(d).mp $(OUT)/sft-$(d).mp) \
        $(OUT)/heldout-pairs.mp $(OUT)/heldout-prompts.mp $(OUT)/downstream.mp
	sh $(HERE)/run.sh train $* $(OUT)

$(OUT)/runs/%/result.json: $(OUT)/runs/%/trained $(HERE)/evaluate.py \
        $(foreach s,$(STARTS),$(OUT)/ref-$(s).mp)
	sh $(HERE)/run.sh evaluate $* $(OUT)

clean:
	rm -rf $(OUT)
