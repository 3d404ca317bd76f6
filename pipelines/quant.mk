# The quantized-pretraining study (Chitsaz et al., 2024, at small scale): one gpt trained
# from scratch on the demo's fortunes with each quantization recipe, the same token budget
# and several seeds, against the fp32 baseline.  Each recipe comes per tensor (one scale
# for a whole tensor) and per row (one scale per output channel of a weight, per token of
# activations and gradients, per row of an optimizer moment).  Quantizers are symmetric,
# rounding to nearest.
#
#   make -f pipelines/quant.mk -j2 [OUT=build/quant] [DATA=build/demo] [SEEDS="1 2 3"]
#        [STEPS=250] [RECIPES="fp32 W8-row ..."] [THREADS=1]
#
# writes $(OUT)/table.md and $(OUT)/table.mp (a record per recipe: final validation loss,
# its spread over seeds, runs diverged, optimizer memory, tokens/s) and $(OUT)/loss.png
# (the training loss curves, mean over seeds).  Every run is a file $(OUT)/runs/R.sS.mp of
# train-quant's metric records, so `make -j` runs the grid in parallel and an interrupted
# study resumes where it stopped; the table counts every run of OUT (a quicker study may
# give the baseline more seeds than the rest: make RECIPES=fp32 SEEDS="1 2 3" runs, then
# make SEEDS=1).  Change OUT with the model or the budget, e.g. a check of some findings at
# four times the budget, with three seeds for two recipes and one for the others:
#   L="-f pipelines/quant.mk -j2 OUT=build/quant-long STEPS=1000 WARMUP=100"
#   make $L RECIPES="fp32 W8A8G8-row" SEEDS="1 2 3" runs
#   make $L RECIPES="fp32 W8A8G8-row W4-row A4-row G4-row m4-row" SEEDS=1
# The data are the demo's (pipelines/demo.mk), made in $(DATA) when missing.  Run `make`
# first.

BIN     ?= bin
OUT     ?= build/quant
DATA    ?= build/demo
SEEDS   ?= 1 2 3
THREADS ?= 1

# the model: 4.2M parameters with the demo's 4096-token vocabulary
LAYERS  ?= 4
WIDTH   ?= 256
HEADS   ?= 4
CONTEXT ?= 128
BATCH   ?= 8
STEPS   ?= 250
LR      ?= 3e-3
WARMUP  ?= 25
# a run diverges when its loss is not finite (train-quant stops, exit 65) or the training
# loss (a moving average of 5 step records) rises SPIKE nats above its lowest before, after
# the warmup
SPIKE   ?= 1.0
TRAIN_OPTS = --arch gpt --layers $(LAYERS) --width $(WIDTH) --heads $(HEADS) \
	--context $(CONTEXT) --tokenizer $(DATA)/bpe.tok -B $(BATCH) --steps $(STEPS) \
	--lr $(LR) --warmup $(WARMUP) -j $(THREADS) --val $(DATA)/valid.tokens.mp \
	--eval-windows 128 --eval-every 50 --log-every 5

# The recipes: NAME-tensor and NAME-row for each NAME of the study.
r_W8  = --w 8:G
r_A8  = --a 8:G
r_G8  = --g 8:G
r_W8A8 = --w 8:G --a 8:G
r_W8A8G8 = --w 8:G --a 8:G --g 8:G
r_W4  = --w 4:G
r_A4  = --a 4:G
r_G4  = --g 4:G
r_m8  = --m 8:G
r_v8  = --v 8:G
r_m4  = --m 4:G
r_v4  = --v 4:G
NAMES   := W8 A8 G8 W8A8 W8A8G8 m8 v8 m4 v4 W4 A4 G4
RECIPES ?= fp32 $(foreach n,$(NAMES),$(n)-tensor $(n)-row)
# the flags of recipe $(1): NAME-tensor or NAME-row, per-row being per token for a and g
flags = $(if $(filter fp32,$(1)),,$(subst :G,:$(if $(filter %-tensor,$(1)),per-tensor,per-row),$(r_$(patsubst %-tensor,%,$(patsubst %-row,%,$(1))))))

RUNS := $(foreach r,$(RECIPES),$(foreach s,$(SEEDS),$(OUT)/runs/$(r).s$(s).mp))

.PHONY: quant runs
# the table and plot are made again every time (in seconds): they count every run in OUT,
# for the RECIPES of the command line, which make cannot see change
quant: $(RUNS)
	pipelines/quant-report.sh --bin $(BIN) --out $(OUT) --spike $(SPIKE) --warmup $(WARMUP) \
	    --recipes "$(RECIPES)"
	@cat $(OUT)/table.md
	@echo "plot: $(OUT)/loss.png"
runs: $(RUNS)

$(DATA)/train.tokens.mp $(DATA)/valid.tokens.mp $(DATA)/bpe.tok:
	$(MAKE) --no-print-directory -f pipelines/demo.mk BIN=$(BIN) OUT=$(DATA) $@

# One run: its metric records, kept when it diverged (exit 65) and the reason in .log.
$(OUT)/runs/%.mp: $(DATA)/train.tokens.mp $(DATA)/valid.tokens.mp $(DATA)/bpe.tok
	@mkdir -p $(OUT)/runs
	@echo "train-quant $(call flags,$(basename $*)) --seed $(subst .s,,$(suffix $*))"
	@rc=0; $(BIN)/train-quant $(TRAIN_OPTS) $(call flags,$(basename $*)) \
	    --seed $(subst .s,,$(suffix $*)) $(DATA)/train.tokens.mp >$@.part 2>$(OUT)/runs/$*.log \
	    || rc=$$?; \
	if [ $$rc != 0 ] && [ $$rc != 65 ]; then cat $(OUT)/runs/$*.log; exit 1; fi; \
	mv $@.part $@
