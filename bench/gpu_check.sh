#!/usr/bin/env bash
# The GPU check, in one run (docs/GPU.md):  bench/gpu_check.sh OUTDIR
#
# On a Linux machine with an NVIDIA GPU and Python: installs what is missing (from wheels in
# $GPU_CHECK_WHEELS, else bench/wheels/, else .whl/ at the repository's root, with
# `pip install --no-index`; from the package index only when there are none), runs the tests
# marked `cuda`, grades the reference and the CUDA-only bugs with --device cuda, grades a
# small class with `grade batch --device cuda --jobs 4`, and times a correct exercise 6 on
# CUDA against the CPU. Writes OUTDIR/gpu_check.log, OUTDIR/figures.json (every figure),
# OUTDIR/pytest_cuda.xml and OUTDIR/gradebook.csv. Each step runs under `timeout`, all of
# them within $GPU_CHECK_BUDGET seconds (default 450: under 8 minutes with the set-up).
#
# Without CUDA it says so in one line and exits 0. GPU_CHECK_FORCE_CPU=1 is the dry run:
# every step on the CPU (--device cpu; the cuda tests are collected and skip), to prove the
# plumbing before GPU time is spent. Exit: 0 when every step ran and passed, 1 otherwise,
# 2 on bad usage.
set -u -o pipefail

if [ $# -ne 1 ] || [ -z "$1" ]; then
    echo "usage: bench/gpu_check.sh OUTDIR" >&2
    exit 2
fi
START=$(date +%s)
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
OUTDIR=$1
mkdir -p "$OUTDIR" || { echo "gpu_check: cannot create $OUTDIR" >&2; exit 2; }
OUTDIR=$(cd "$OUTDIR" && pwd)
LOG=$OUTDIR/gpu_check.log
FIGURES=$OUTDIR/figures.json
PY=${PYTHON:-python3}
FORCE_CPU=${GPU_CHECK_FORCE_CPU:-0}
BUDGET=${GPU_CHECK_BUDGET:-450}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/gpu_check.XXXXXX")
STEPS=$WORK/steps.tsv
trap 'rm -rf "$WORK"' EXIT
: >"$LOG"
: >"$STEPS"
cd "$ROOT" || exit 2
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1

log() { echo "$*" | tee -a "$LOG"; }

# One line on the terminal and in the log, figures.json with the reason, exit 0.
no_cuda() {
    log "gpu_check: no CUDA on this machine ($1): nothing to check"
    printf '{"cuda": false, "reason": "%s"}\n' "$1" >"$FIGURES"
    exit 0
}

if [ "$FORCE_CPU" != 1 ]; then
    if ! command -v nvidia-smi >/dev/null 2>&1 && ! compgen -G "/dev/nvidia[0-9]*" >/dev/null; then
        no_cuda "no NVIDIA GPU: no nvidia-smi, no /dev/nvidia*"
    fi
fi
command -v "$PY" >/dev/null 2>&1 || { log "gpu_check: no $PY (set PYTHON=...)"; exit 1; }

# --------------------------------------------------------------------------- what is missing
NEEDED="numpy torch jinja2 markupsafe pytest ${GPU_CHECK_NEEDS:-}"  # GPU_CHECK_NEEDS: more modules
missing() {  # the modules of $NEEDED that do not import (all of them if Python fails)
    # shellcheck disable=SC2086
    "$PY" -c 'import importlib, sys
out = []
for m in sys.argv[1:]:
    try:
        importlib.import_module(m)
    except Exception:
        out.append(m)
print(" ".join(out))' $NEEDED 2>/dev/null || echo "$NEEDED"
}
MISSING=$(missing)
if [ -n "$MISSING" ]; then
    WHEELS=${GPU_CHECK_WHEELS:-}
    if [ -z "$WHEELS" ]; then
        for d in "$HERE/wheels" "$ROOT/.whl"; do
            if compgen -G "$d/*.whl" >/dev/null; then WHEELS=$d; break; fi
        done
    fi
    SITE=$WORK/site
    if [ -n "$WHEELS" ] && compgen -G "$WHEELS/*.whl" >/dev/null; then
        log "gpu_check: installing $(ls "$WHEELS"/*.whl | wc -l) wheels from $WHEELS (missing: $MISSING)"
        timeout 180 "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
            --target "$SITE" "$WHEELS"/*.whl >>"$LOG" 2>&1
    else
        log "gpu_check: no wheels found; installing from the package index (missing: $MISSING)"
        timeout 300 "$PY" -m pip install -q --no-cache-dir --target "$SITE" $MISSING >>"$LOG" 2>&1
    fi
    export PYTHONPATH="$PYTHONPATH:$SITE"
    MISSING=$(missing)
    if [ -n "$MISSING" ]; then
        log "gpu_check: still missing after the install: $MISSING (see docs/GPU.md, 'Wheels')"
        exit 1
    fi
fi

if [ "$FORCE_CPU" = 1 ]; then
    DEVICE=cpu
    log "gpu_check: dry run (GPU_CHECK_FORCE_CPU=1): every step with --device cpu"
else
    DEVICE=cuda
    if ! "$PY" -c "import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)" >/dev/null 2>&1; then
        no_cuda "torch $("$PY" -c 'import torch; print(torch.__version__)' 2>/dev/null) sees no CUDA device"
    fi
fi

# --------------------------------------------------------------------------- the steps
FAILED=0

# step NAME SECONDS CMD...: run CMD under `timeout` (capped by what is left of the budget),
# its output in the log, one line here; records NAME, status and seconds in steps.tsv.
step() {
    local name=$1 limit=$2 t0 rc status left
    shift 2
    left=$((BUDGET - ($(date +%s) - START)))
    if [ "$left" -lt 15 ]; then
        log "step $name: skipped (the ${BUDGET} s budget is spent)"
        printf '%s\tskipped\t\n' "$name" >>"$STEPS"
        FAILED=1
        return
    fi
    [ "$limit" -gt "$left" ] && limit=$left
    echo "=== step $name (timeout ${limit} s): $*" >>"$LOG"
    t0=$(date +%s.%N)
    timeout -k 10 "$limit" "$@" >>"$LOG" 2>&1
    rc=$?
    case $rc in
        0) status=ok ;;
        124 | 137) status="timed out after ${limit} s" ;;
        *) status="failed (exit $rc)" ;;
    esac
    [ "$rc" -ne 0 ] && FAILED=1
    local secs
    secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
    printf '%s\t%s\t%s\n' "$name" "$status" "$secs" >>"$STEPS"
    log "step $name: $status (${secs} s)"
}

H=("$PY" "$HERE/gpu_check.py")
step env 60 "${H[@]}" env "$WORK/fig_env.json"
if [ "$DEVICE" = cuda ]; then
    step nvidia-smi 30 nvidia-smi
fi
step doctor 60 "$PY" -m grader doctor
step singles 180 "${H[@]}" singles "$DEVICE" "$WORK" "$WORK/fig_singles.json" --jobs 3
CUDA_TESTS=$(grep -l "pytest.mark.cuda" tests/test_*.py | tr '\n' ' ')
# -m cuda replaces pyproject's -m 'not slow'; -x is not used: every cuda test reports.
# shellcheck disable=SC2086
step pytest-cuda 240 "$PY" -m pytest -q -rfEsxX -p no:cacheprovider -m cuda --junitxml "$OUTDIR/pytest_cuda.xml" $CUDA_TESTS
step pytest-report 30 "${H[@]}" junit "$OUTDIR/pytest_cuda.xml" "$WORK/fig_pytest.json"
step batch 150 "${H[@]}" class "$DEVICE" "$WORK" "$WORK/fig_batch.json" --jobs 4
[ -f "$WORK/batch/gradebook.csv" ] && cp "$WORK/batch/gradebook.csv" "$OUTDIR/gradebook.csv"
if [ "$DEVICE" = cuda ]; then
    step time 120 "${H[@]}" time "$WORK" "$WORK/fig_time.json" --rounds "${GPU_CHECK_ROUNDS:-3}"
else
    step time 120 "${H[@]}" time "$WORK" "$WORK/fig_time.json" --rounds "${GPU_CHECK_ROUNDS:-1}" --cpu-only
fi

TOTAL=$(($(date +%s) - START))
export GPU_CHECK_FACTS="{\"cuda\": $([ "$DEVICE" = cuda ] && echo true || echo false), \"dry_run\": $([ "$FORCE_CPU" = 1 ] && echo true || echo false), \"device\": \"$DEVICE\", \"total_s\": $TOTAL, \"all_steps_ok\": $([ "$FAILED" = 0 ] && echo true || echo false)}"
"$PY" "$HERE/gpu_check.py" summary "$STEPS" "$WORK" "$FIGURES" >>"$LOG" 2>&1 || FAILED=1
log "gpu_check: done in ${TOTAL} s on $DEVICE; every step ok: $([ "$FAILED" = 0 ] && echo yes || echo no); figures in $FIGURES, log in $LOG"
exit "$FAILED"
