# The default pipeline (make demo): real English text from Debian's fortunes package,
# ingested into records, split into train/valid by a hash of each record's id, a byte-level
# BPE vocabulary learned on train, valid encoded with it, and a short report; then a gpt
# and a hawk of matched parameter count trained on the tokens for a few minutes in all,
# their validation losses side by side, and a sample from each.
#
#   make -f pipelines/demo.mk [OUT=build/demo] [VOCAB=4096] [STEPS=600] [THREADS=2]
# Run `make` first (the top-level `make demo` does both).

BIN     ?= bin
OUT     ?= build/demo
VOCAB   ?= 4096
FORTUNES ?= /usr/share/games/fortunes

TEXTS := $(filter-out %.dat %.u8,$(wildcard $(FORTUNES)/*))

# the language models: the gpt's sizes; the hawk gets the width that brings its parameter
# count closest to the gpt's (train --params)
LAYERS  ?= 4
WIDTH   ?= 128
HEADS   ?= 4
CONTEXT ?= 128
BATCH   ?= 16
STEPS   ?= 600
THREADS ?= 2
TRAIN_OPTS = --tokenizer $(OUT)/bpe.tok --layers $(LAYERS) --context $(CONTEXT) -B $(BATCH) \
	--steps $(STEPS) --lr 3e-3 --warmup 25 --seed 1 -j $(THREADS) \
	--val $(OUT)/valid.tokens.mp --eval-windows 256 --log-every 50
PROMPT  ?= The secret of life is

.PHONY: demo report models
demo: report models

$(OUT)/corpus.mp: $(TEXTS)
	@test -n "$(TEXTS)" || { echo "demo: no text in $(FORTUNES): install Debian's fortunes package (make deps)"; exit 1; }
	@mkdir -p $(OUT)
	$(BIN)/ingest --sep % -o $@ $(TEXTS)

$(OUT)/train.mp $(OUT)/valid.mp &: $(OUT)/corpus.mp
	$(BIN)/holdout --valid 0.1 --test 0 --keep train -o $(OUT)/train.mp $<
	$(BIN)/holdout --valid 0.1 --test 0 --keep valid -o $(OUT)/valid.mp $<

$(OUT)/bpe.tok: $(OUT)/train.mp
	$(BIN)/tokenize learn -v $(VOCAB) -o $@ $<

$(OUT)/valid.tokens.mp: $(OUT)/valid.mp $(OUT)/bpe.tok
	$(BIN)/tokenize encode -m $(OUT)/bpe.tok --keep-text -o $@ $<

report: $(OUT)/valid.tokens.mp
	@echo
	@echo "== runnel demo: byte-level BPE on Debian's fortunes"
	@$(BIN)/mp2json $(OUT)/corpus.mp | jq -rs '"corpus:     \(length) fortunes, \(map(.text | utf8bytelength) | add) bytes"'
	@$(BIN)/mp2json $(OUT)/train.mp | jq -rs '"train:      \(length) fortunes (valid: 10% by a hash of each id)"'
	@$(BIN)/tokenize info -m $(OUT)/bpe.tok | $(BIN)/mp2json | jq -r '"vocabulary: \(.vocab_size) tokens (\(.merges) merges) learned on train"'
	@$(BIN)/mp2json $(OUT)/valid.tokens.mp | jq -rs '(map(.text | utf8bytelength) | add) as $$b | (map(.tokens | length) | add) as $$t | "valid:      \(length) fortunes, \($$b) bytes -> \($$t) tokens, \($$b / $$t * 100 | round / 100) bytes/token"'
	@$(BIN)/tokenize decode -m $(OUT)/bpe.tok $(OUT)/valid.tokens.mp | $(BIN)/mp2json | jq -c .text >$(OUT)/decoded.txt
	@$(BIN)/mp2json $(OUT)/valid.mp | jq -c .text >$(OUT)/original.txt
	@if cmp -s $(OUT)/decoded.txt $(OUT)/original.txt; then echo "round trip: decode(encode(valid)) is byte-identical"; \
	 else echo "round trip: FAILED (diff $(OUT)/decoded.txt $(OUT)/original.txt)"; exit 1; fi
	@$(BIN)/mp2json $(OUT)/valid.tokens.mp | jq -r 'select(.tokens | length < 20) | "  \(.tokens | length) tokens: \(.text | gsub("\n"; " "))"' | head -3

$(OUT)/train.tokens.mp: $(OUT)/train.mp $(OUT)/bpe.tok
	$(BIN)/tokenize encode -m $(OUT)/bpe.tok -o $@ $<

$(OUT)/hawk.width: $(OUT)/bpe.tok
	@gpt=$$($(BIN)/train --arch gpt --width $(WIDTH) --heads $(HEADS) $(TRAIN_OPTS) --params) && \
	best= && for w in $$(seq 32 8 $$(($(WIDTH) * 2))); do \
	    n=$$($(BIN)/train --arch hawk --width $$w $(TRAIN_OPTS) --params) || exit 1; \
	    d=$$((n > gpt ? n - gpt : gpt - n)); \
	    if [ -z "$$best" ] || [ $$d -lt $$bd ]; then best=$$w; bd=$$d; fi; \
	done && echo $$best >$@

$(OUT)/gpt.ckpt: $(OUT)/train.tokens.mp $(OUT)/valid.tokens.mp
	$(BIN)/train --arch gpt --width $(WIDTH) --heads $(HEADS) $(TRAIN_OPTS) -o $@ $< >$(OUT)/gpt.metrics.mp

$(OUT)/hawk.ckpt: $(OUT)/train.tokens.mp $(OUT)/valid.tokens.mp $(OUT)/hawk.width
	$(BIN)/train --arch hawk --width $$(cat $(OUT)/hawk.width) $(TRAIN_OPTS) -o $@ $< >$(OUT)/hawk.metrics.mp

# one row of the table from a trainer's metric records: its config and done records
ROW_JQ = (.[0]) as $$c | (map(select(.event == "done")) | .[0]) as $$d | [$$m, $$c.params, $$c.width, ($$d.loss * 1000 | round / 1000), ($$d.val_loss * 1000 | round / 1000), ($$d.seconds | round)] | @tsv
ROW_FMT = %-6s %10s %8s %10s %10s %9s\n

models: $(OUT)/gpt.ckpt $(OUT)/hawk.ckpt
	@echo
	@echo "== a gpt and a hawk of matched size, $(STEPS) steps of $(BATCH) x $(CONTEXT) tokens each, $(THREADS) threads"
	@printf '$(ROW_FMT)' model params width "loss" "val loss" seconds
	@for m in gpt hawk; do \
	    $(BIN)/mp2json $(OUT)/$$m.metrics.mp | jq -rs --arg m $$m '$(ROW_JQ)' | \
	        awk -F'\t' '{printf "$(ROW_FMT)", $$1, $$2, $$3, $$4, $$5, $$6}'; \
	done
	@for m in gpt hawk; do \
	    echo '{"prompt":"$(PROMPT)"}' | $(BIN)/json2mp | \
	        $(BIN)/sample -m $(OUT)/$$m.ckpt -n 40 --temperature 0.8 --top-k 40 --seed 1 -j $(THREADS) | \
	        $(BIN)/mp2json | jq -r --arg m $$m '"\($$m):  \(.prompt)\(.completion | gsub("\n"; " "))"'; \
	done
