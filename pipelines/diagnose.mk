# The evaluation of diagnose(1): every fault of rl-trace(1) on every setup (agent and
# environment) it applies to, SEEDS seeds each, plus the healthy runs, each traced and
# diagnosed.  The table gives, per fault, the fraction of runs in which a code that
# detects it fired (the codes `rl-trace --list-faults` names), and the fraction of healthy
# runs with any finding of severity error; then the same by setup, and the codes healthy
# runs show.  Traces (gzip, about 1 MB a run) are deleted once diagnosed unless
# KEEP_TRACES=1; kept, a new bin/diagnose re-diagnoses them without training again.
#
#   make -f pipelines/diagnose.mk [OUT=build/diagnose] [SEEDS="1 2 3"] [STEPS=100000] -j2
# Run `make` first (bin/rl-trace and bin/diagnose).  About 35 CPU-minutes.

BIN     ?= bin
OUT     ?= build/diagnose
SEEDS   ?= 1 2 3
HEALTHY_SEEDS ?= 1 2 3 4 5 6 7 8 9 10
STEPS   ?= 100000
SETUPS  ?= dqn:CartPole-v1 dqn:Acrobot-v1 dqn:MountainCar-v0 dqn:GridWorld-v0 \
           reinforce:CartPole-v1 reinforce:GridWorld-v0 \
           ppo:CartPole-v1 ppo:Acrobot-v1 ppo:Pendulum-v1

SHELL := /bin/bash

ifeq ($(wildcard $(BIN)/rl-trace $(BIN)/diagnose),)
$(error $(BIN)/rl-trace and $(BIN)/diagnose are missing: run make first)
endif

# A run is AGENT.ENV.FAULT.SEED (FAULT "none": healthy).
faults_of = $(shell $(BIN)/rl-trace -a $(word 1,$(subst :, ,$(1))) -e $(word 2,$(subst :, ,$(1))) --list-faults | cut -f1)
RUNS := $(foreach s,$(SETUPS),\
          $(foreach n,$(HEALTHY_SEEDS),$(subst :,.,$(s)).none.$(n)) \
          $(foreach f,$(call faults_of,$(s)),$(foreach n,$(SEEDS),$(subst :,.,$(s)).$(f).$(n))))
DIAGS := $(patsubst %,$(OUT)/diag/%.mp,$(RUNS))
TRACES := $(patsubst %,$(OUT)/traces/%.mp.gz,$(RUNS))
ifeq ($(KEEP_TRACES),)
.INTERMEDIATE: $(TRACES)
else
.SECONDARY: $(TRACES)
endif

.PHONY: table
table: $(OUT)/table.txt
	@cat $<

# Evaluation is off (--eval-every 0): only the trace matters here.
$(OUT)/traces/%.mp.gz: $(BIN)/rl-trace
	@mkdir -p $(OUT)/traces
	$(eval r := $(subst ., ,$*))
	$(BIN)/rl-trace -a $(word 1,$(r)) -e $(word 2,$(r)) \
	    $(if $(filter none,$(word 3,$(r))),,--fault $(word 3,$(r))) \
	    --seed $(word 4,$(r)) -n $(STEPS) --eval-every 0 -z -o $@

$(OUT)/diag/%.mp: $(OUT)/traces/%.mp.gz $(BIN)/diagnose
	@mkdir -p $(OUT)/diag
	$(BIN)/diagnose -o $@ $<

# One line per run: AGENT ENV FAULT SEED, then CODE:SEVERITY of each finding.
$(OUT)/findings.txt: $(DIAGS)
	@for f in $(DIAGS); do \
	    r=$$(basename $$f .mp); \
	    echo "$${r//./ } $$($(BIN)/mp2json $$f | jq -r '.code + ":" + .severity' | tr '\n' ' ')"; \
	done >$@.tmp && mv $@.tmp $@

# FAULT CODE ...: the codes that detect each fault, in rl-trace's order.
$(OUT)/expected.txt: $(BIN)/rl-trace
	@mkdir -p $(OUT)
	@for s in $(SETUPS); do \
	    $(BIN)/rl-trace -a $${s%%:*} -e $${s#*:} --list-faults | cut -f1,3 | tr '\t' ' '; \
	done | awk '!seen[$$0]++' >$@

$(OUT)/table.txt: $(OUT)/findings.txt $(OUT)/expected.txt
	@awk 'NR == FNR { order[++nf] = $$1; for (i = 2; i <= NF; i++) codes[$$1] = codes[$$1] " " $$i; next } \
	  { fault = $$3; setup = $$1 " " $$2; if (!(setup in sruns)) sorder[++ns] = setup; \
	    findings = " "; for (i = 5; i <= NF; i++) findings = findings $$i " " } \
	  fault == "none" { sruns[setup] += 0; healthy++; if (findings ~ /:error /) herr++; \
	      for (i = 5; i <= NF; i++) { split($$i, cs, ":"); if (!seen[cs[1]]++) corder[++nc] = cs[1] }; next } \
	  { runs[fault]++; sruns[setup]++; hit = 0; n = split(codes[fault], e, " "); \
	    for (i = 1; i <= n; i++) if (index(findings, " " e[i] ":")) { hit = 1; by[fault, e[i]]++ } \
	    det[fault] += hit; sdet[setup] += hit; total++; detected += hit; \
	    if (!hit) missed[fault] = missed[fault] " " $$1 "/" $$2 "/" $$4 } \
	  END { \
	    printf "%-20s %5s %9s  %s\n", "fault", "runs", "detected", "detecting codes that fired (runs)"; \
	    for (k = 1; k <= nf; k++) { f = order[k]; if (!runs[f]) continue; s = ""; \
	        n = split(codes[f], e, " "); for (i = 1; i <= n; i++) if (by[f, e[i]]) s = s " " e[i] " " by[f, e[i]]; \
	        printf "%-20s %5d %8.1f%% %s%s\n", f, runs[f], 100 * det[f] / runs[f], s, \
	               missed[f] ? "; missed:" missed[f] : "" } \
	    printf "%-20s %5d %8.1f%%\n", "all faults", total, 100 * detected / total; \
	    printf "\n%-26s %5s %9s\n", "setup", "runs", "detected"; \
	    for (k = 1; k <= ns; k++) { s = sorder[k]; if (sruns[s]) printf "%-26s %5d %8.1f%%\n", s, sruns[s], 100 * sdet[s] / sruns[s] } \
	    printf "\nhealthy runs: %d, with a finding of severity error: %d (%.1f%%)\n", healthy, herr, \
	           healthy ? 100 * herr / healthy : 0; \
	    printf "codes in healthy runs (runs):"; for (k = 1; k <= nc; k++) printf " %s %d", corder[k], seen[corder[k]]; \
	    printf "\n" }' $(OUT)/expected.txt $(OUT)/findings.txt >$@.tmp && mv $@.tmp $@

.PHONY: clean
clean:
	rm -rf $(OUT)
