#!/usr/bin/env bash
# Draws FVC2002's and the synthetic model's genuine and impostor score
# distributions side by side (docs/images/synth-vs-fvc2002.png, shown in
# docs/biometrics.md, "Calibration of the synthetic model").
#
#   scripts/plot_synth_scores.sh [EKTP] [FVC_DIR] [OUT_PNG]
#
# Defaults: build/dev/ektp, ../shared/data/fvc2002, docs/images/synth-vs-fvc2002.png.
# Needs gnuplot with the pngcairo terminal (gnuplot-nox, scripts/setup.sh).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
ektp=${1:-$root/build/dev/ektp}
fvc=${2:-$root/../shared/data/fvc2002}
out=${3:-$root/docs/images/synth-vs-fvc2002.png}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The calibration's own comparison: fitted on DB1, DB3 and DB4, DB2 held out,
# the synthetic set as fitted (100 fingers x 8 impressions, seed 1).
"$ektp" bio synth-calibrate --fvc "$fvc" --fit DB1_B,DB3_B,DB4_B --histogram "$work/h.tsv" > "$work/summary.json"

eer() {  # eer JSON_PATH...: the EER at that place of summary.json, in percent
  python3 -c 'import json,sys
j=json.load(open(sys.argv[1]))
for k in sys.argv[2:]: j=j[int(k)] if k.isdigit() else j[k]
print("%.2f" % (100*j))' "$work/summary.json" "$@"
}
fit_eer=$(eer fit comparison fvc eer)
held_eer=$(eer held_out 0 comparison fvc eer)
syn_eer=$(eer fit comparison synthetic eer)

gnuplot <<EOF
set terminal pngcairo size 1400,560 font "DejaVu Sans,11"
set output "$out"
set multiplot layout 1,2 title "Genuine and impostor score distributions: FVC2002 and the synthetic model (ektp matcher, 2-point bins)"
set logscale y
set format y "10^{%T}"
set yrange [1e-5:1]
set xrange [0:102]
set xlabel "score (nominal: -10 log10 FMR)"
set ylabel "share of pairs"
set key top center
set style data steps
set title "FVC2002: DB1+DB3+DB4 (fitted on, EER ${fit_eer} %), DB2 (held out, EER ${held_eer} %)"
plot "$work/h.tsv" using 1:(\$2 > 0 ? \$2 : 1e-6) lw 2 lc rgb "#1b7837" title "genuine, DB1+3+4", \
     "" using 1:(\$3 > 0 ? \$3 : 1e-6) lw 2 lc rgb "#b2182b" title "impostor, DB1+3+4", \
     "" using 1:(\$4 > 0 ? \$4 : 1e-6) lw 1 dt 2 lc rgb "#1b7837" title "genuine, DB2 (held out)", \
     "" using 1:(\$5 > 0 ? \$5 : 1e-6) lw 1 dt 2 lc rgb "#b2182b" title "impostor, DB2 (held out)"
set title "Synthetic: ektp bio synth, 100 fingers x 8 impressions (EER ${syn_eer} %)"
plot "$work/h.tsv" using 1:(\$6 > 0 ? \$6 : 1e-6) lw 2 lc rgb "#1b7837" title "genuine", \
     "" using 1:(\$7 > 0 ? \$7 : 1e-6) lw 2 lc rgb "#b2182b" title "impostor"
unset multiplot
EOF
echo "wrote $out"
