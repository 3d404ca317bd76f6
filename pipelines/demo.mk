# The default pipeline (make demo): real English text from Debian's fortunes package,
# ingested into records, split into train/valid by a hash of each record's id, a byte-level
# BPE vocabulary learned on train, valid encoded with it, and a short report.
#
#   make -f pipelines/demo.mk [OUT=build/demo] [VOCAB=4096]
# Run `make` first (the top-level `make demo` does both).

BIN     ?= bin
OUT     ?= build/demo
VOCAB   ?= 4096
FORTUNES ?= /usr/share/games/fortunes

TEXTS := $(filter-out %.dat %.u8,$(wildcard $(FORTUNES)/*))

.PHONY: demo report
demo: report

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
