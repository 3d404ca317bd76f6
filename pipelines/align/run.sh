#!/bin/sh
# One cell of the alignment grid, CELL = TECH-DATA-START-rRANK-METHOD
# (sft-labelled-instruct-r16-qlora ...) in OUT, the pipeline's folder:
#   run.sh train CELL OUT     train the START model of OUT with TECH (lora-tune or dpo) on
#                             the DATA set, with METHOD adapters of rank RANK (alpha 2 RANK),
#                             and run the merged model on the held-out pairs (scored, for the
#                             implicit-reward accuracy against START), the held-out prompts
#                             (greedy answers, for the judge) and the downstream task; the
#                             outputs go to OUT/runs/CELL/, the model is not kept
#   run.sh evaluate CELL OUT  from those, OUT/runs/CELL/result.json (evaluate.py)
# SFT_FLAGS, DPO_FLAGS and THREADS come from the environment (pipelines/align.mk).
set -eu
stage=$1 cell=$2 out=$3
here=$(dirname "$0")
IFS=- read -r tech data start rank method <<EOF
$cell
EOF
rank=${rank#r}
dir=$out/runs/$cell
mkdir -p "$dir"
if [ "$stage" = evaluate ]; then
    eval_args=""
    [ -s "$dir/generated.mp" ] && eval_args="--generated $dir/generated.mp"
    [ -s "$dir/downstream.mp" ] && eval_args="$eval_args --downstream $dir/downstream.mp"
    /usr/bin/python3 "$here/evaluate.py" --name "$cell" --metrics "$dir/metrics.mp" \
        --pairs "$dir/pairs.mp" --ref "$out/ref-$start.mp" $eval_args \
        tech="$tech" data="$data" start="$start" rank="$rank" method="$method" \
        >"$dir/result.json.tmp"
    mv "$dir/result.json.tmp" "$dir/result.json"
    exit 0
fi
common="--base $out/$start.ckpt --$method --rank $rank --alpha $((2 * rank)) -j $THREADS"
case $tech in
sft) lora-tune $common $SFT_FLAGS -o "$dir/adapter.tar" --merged "$dir/model.ckpt" \
        "$out/sft-$data.mp" >"$dir/metrics.mp" ;;
dpo) dpo $common $DPO_FLAGS -o "$dir/adapter.tar" --merged "$dir/model.ckpt" \
        "$out/pairs-$data.mp" >"$dir/metrics.mp" ;;
*) echo "run.sh: unknown technique $tech in $cell" >&2; exit 64 ;;
esac
score -m "$dir/model.ckpt" -j "$THREADS" "$out/heldout-pairs.mp" >"$dir/pairs.mp"
if [ -s "$out/heldout-prompts.mp" ]; then
    sample -m "$dir/model.ckpt" --greedy -n 24 -j "$THREADS" "$out/heldout-prompts.mp" \
        >"$dir/generated.mp"
fi
if [ -s "$out/downstream.mp" ]; then
    score -m "$dir/model.ckpt" -j "$THREADS" "$out/downstream.mp" >"$dir/downstream.mp"
fi
rm -f "$dir/model.ckpt"
touch "$dir/trained"
