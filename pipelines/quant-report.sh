#!/bin/bash
# The table and the plot of the quantized-pretraining study (pipelines/quant.mk), from the
# metric records of its runs, OUT/runs/RECIPE.sSEED.mp:
#
#   OUT/table.md    a markdown table, a row per recipe: final validation loss (mean and
#                   sample standard deviation over the runs that did not diverge), its
#                   difference from fp32 and whether that is within noise (Welch's t-test
#                   at 5%, two-sided: |d| <= t(0.975, df) times the standard error of the
#                   difference of the means), runs diverged (stopped
#                   on a non-finite loss, or the training loss, averaged over the last 5
#                   step records, SPIKE nats above its lowest before, after the warmup),
#                   optimizer state in MB, training tokens/s (median over steps and runs)
#   OUT/table.mp    the same rows as records
#   OUT/loss.png    training loss against step, mean over seeds and moving average of 5
#                   step records: per-tensor recipes on the left, per-row / per-token on
#                   the right, fp32 (black) on both
#
# Every run of the recipes in OUT/runs counts, whatever its seed: a study can add seeds
# to some recipes (the baseline's, to measure the noise) and not to others.  A recipe run
# with one seed is taken to vary between seeds as the baseline does.
#
# usage: quant-report.sh --bin BIN --out OUT --spike X --warmup N --recipes "R ..."
set -euo pipefail
while [ $# -gt 0 ]; do
    case $1 in
    --bin) BIN=$2 ;;
    --out) OUT=$2 ;;
    --spike) SPIKE=$2 ;;
    --warmup) WARMUP=$2 ;;
    --recipes) RECIPES=$2 ;;
    *) echo "quant-report.sh: unknown argument $1" >&2; exit 64 ;;
    esac
    shift 2
done
mkdir -p "$OUT/curves"
runs=$OUT/runs.json
: >"$runs"

# one summary per run
for r in $RECIPES; do
    for f in "$OUT/runs/$r".s*.mp; do
        s=${f##*.s}
        s=${s%.mp}
        "$BIN/mp2json" "$f" | jq -sc --arg r "$r" --arg s "$s" \
            --argjson spike "$SPIKE" --argjson warmup "$WARMUP" '
            (map(select(.event == "config"))[0]) as $c
            | (map(select(.event == "done"))[0]) as $d
            | [.[] | select(.event == "step")] as $st
            # the loss smoothed over the last 5 step records: one batch is noisy
            | [range(0; $st | length) as $i | $st[([$i - 4, 0] | max):$i + 1]
               | {step: .[-1].step, loss: (map(.loss) | add / length)}] as $sm
            | (reduce $sm[] as $x ({min: null, spiked: false};
                  (if $x.step > $warmup and .min != null and ($x.loss > .min + $spike
                      or ($x.loss | isfinite | not))
                   then .spiked = true else . end)
                  | .min = (if .min == null or $x.loss < .min then $x.loss else .min end)))
            | {recipe: $r, seed: ($s | tonumber), quant: ($c.recipe // ""),
               optimizer_bytes: $c.optimizer_bytes, params: $c.params,
               finished: ($d != null), spiked: .spiked,
               val_loss: (if $d != null then $d.val_loss else null end),
               tokens_per_s: ($st | map(.tokens_per_s) | sort | .[length / 2 | floor]),
               curve: ($st | map([.step, .loss]))}' >>"$runs"
    done
done

# one row per recipe, in the study's order
jq -sc --arg order "$RECIPES" '
    def mean: add / length;
    def sd: if length < 2 then null else (mean as $m | map(. - $m | . * .) | add / (length - 1) | sqrt) end;
    def round3: if . == null then null else . * 1000 | round / 1000 end;
    # the 97.5% quantile of Student t with floor(df) degrees of freedom (1.96 past 30)
    def t975: [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
               2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
               2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042] as $t
        | (floor | if . < 1 then 1 else . end) as $d | if $d > 30 then 1.96 else $t[$d - 1] end;
    group_by(.recipe) | map({key: .[0].recipe, value: .}) | from_entries as $g
    | ($order | split(" ") | map(select(. != ""))) as $names
    | [$names[] | $g[.] as $runs
       | ($runs | map(select(.finished and (.spiked | not)) | .val_loss)) as $ok
       | {recipe: ., quant: $runs[0].quant, seeds: ($runs | length),
          val_loss: (if ($ok | length) > 0 then ($ok | mean) else null end),
          val_sd: ($ok | sd), n: ($ok | length),
          diverged: ($runs | map(select((.finished | not) or .spiked)) | length),
          diverged_val_loss: ($runs | map(select(.finished and .spiked) | .val_loss) | sort
                              | if length == 0 then null else .[length / 2 | floor] end),
          stopped: ($runs | map(select(.finished | not)) | length),
          optimizer_mb: ($runs[0].optimizer_bytes / 1e6 * 100 | round / 100),
          tokens_per_s: ($runs | map(.tokens_per_s) | sort | .[length / 2 | floor] | round)}]
    | (map(select(.recipe == "fp32"))[0]) as $b
    | map(. + (if $b == null or .val_loss == null or $b.val_loss == null then {delta: null, within_noise: null}
               else (.val_loss - $b.val_loss) as $d
                    | {delta: ($d | round3),
                       within_noise: (if $b.val_sd == null then null
                                      else ($b.val_sd * $b.val_sd / $b.n) as $vb
                                      # a recipe with one run borrows the spread of the baseline
                                      | (if .val_sd == null then $b.val_sd * $b.val_sd / .n
                                         else .val_sd * .val_sd / .n end) as $vr
                                      | (if .val_sd == null then $b.n - 1
                                         elif $vr + $vb == 0 then 1
                                         else ($vr + $vb) * ($vr + $vb)
                                              / ($vr * $vr / (.n - 1) + $vb * $vb / ($b.n - 1)) end) as $df
                                      | ($d | fabs) <= ($df | t975) * (($vr + $vb) | sqrt) end)}
               end)
          | .val_loss |= round3 | .val_sd |= round3
          | .diverged_val_loss |= (if . == null then null elif . > 100 then round else round3 end))' \
    "$runs" >"$OUT/table.json"

jq -c '.[]' "$OUT/table.json" | "$BIN/json2mp" >"$OUT/table.mp"
{
    echo "| recipe | quantized | val loss | sd | Δ fp32 | within noise | diverged | their val loss | optimizer MB | tokens/s |"
    echo "| --- | --- | ---: | ---: | ---: | :---: | ---: | ---: | ---: | ---: |"
    jq -r '.[] | "| \(.recipe) | \(if .quant == "" then "-" else .quant end) | \(.val_loss // "-") | \(.val_sd // "-") | \(.delta // "-") | \(if .within_noise == null then "-" elif .within_noise then "yes" else "no" end) | \(.diverged)/\(.seeds) | \(.diverged_val_loss // "-") | \(.optimizer_mb) | \(.tokens_per_s) |"' "$OUT/table.json"
    echo
    echo "val loss: mean over the runs that did not diverge; their val loss: the median final"
    echo "validation loss of the diverged runs that finished.  tokens/s: as measured while the"
    echo "study ran, several runs at a time on a shared machine, so not comparable between"
    echo "rows; \`BENCH=quant bench/run\` measures step times side by side."
} >"$OUT/table.md"

# the curves: mean loss over the seeds that reached each step, then a moving average of 5
# step records
for r in $RECIPES; do
    jq -r --arg r "$r" 'select(.recipe == $r) | .curve[] | @tsv' "$runs" |
        awk '{s[$1] += $2; n[$1]++} END {for (k in s) print k, s[k] / n[k]}' | sort -n |
        awk '{l[NR % 5] = $2; k = NR < 5 ? NR : 5; t = 0; for (i in l) t += l[i]; print $1, t / k}' \
            >"$OUT/curves/$r.dat"
done
plot() { # the gnuplot plot command of the recipes matching $1, fp32 first in black
    local cmd="" r i=0
    for r in fp32 $(printf '%s\n' $RECIPES | grep -- "$1" || true); do
        [ -s "$OUT/curves/$r.dat" ] || continue
        if [ "$r" = fp32 ]; then
            style="lc black lw 2"
        else
            style="lt $((i % 6 + 1)) dt $((i / 6 + 1)) lw 1.5"
            i=$((i + 1))
        fi
        cmd="$cmd${cmd:+, }'$OUT/curves/$r.dat' using 1:2 with lines $style title '$r'"
    done
    echo "plot $cmd"
}
gnuplot <<EOF
set terminal pngcairo size 1400,560 font ",10"
set output "$OUT/loss.png"
set multiplot layout 1,2
set xlabel "step"
set ylabel "training loss (mean over seeds, moving average)"
set yrange [*:9]
set key outside right
set title "per tensor"
$(plot -tensor)
set title "per row (weights: output channel; activations, gradients: token)"
$(plot -row)
unset multiplot
EOF
