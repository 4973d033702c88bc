# flow.gnuplot: flow wall time against droplet count, dosnap and the one-at-a-time baseline.
# Called by tests/bench/run.sh with datafile, outfile, hasextrap and lastpoint ("N seconds" of the
# last measured baseline point) set.  Columns: N, dosnap --jobs 10, dosnap --jobs N,
# baseline measured, baseline extrapolated (NaN where not applicable).
set terminal svg size 760,480 dynamic font "sans,12" background rgb "white"
set output outfile
set title "Snapshot flow: wall time against droplet count (simulated seconds, log-log)"
set xlabel "droplets"
set ylabel "wall time (s)"
set logscale xy
set grid xtics ytics mxtics mytics lc rgb "#dddddd"
set key top left Left reverse
set format y "%g"
set xrange [0.7:1500]
set datafile missing "NaN"
lx = word(lastpoint, 1) + 0
ly = word(lastpoint, 2) + 0
if (hasextrap > 0) {
plot datafile using 1:2 with linespoints lw 2 pt 7 lc rgb "#1f77b4" title "dosnap --jobs 10 (default)", \
     datafile using 1:3 with linespoints lw 2 pt 5 lc rgb "#2ca02c" title "dosnap --jobs N", \
     datafile using 1:4 with linespoints lw 2 pt 9 lc rgb "#d62728" title "baseline: one at a time, polling every 10 s", \
     datafile using (lx):(ly):($1 - lx):($5 - ly) with vectors nohead dt 2 lw 2 lc rgb "#d62728" notitle, \
     datafile using 1:5 with points pt 8 ps 1.5 lc rgb "#d62728" title "baseline, extrapolated"
} else {
plot datafile using 1:2 with linespoints lw 2 pt 7 lc rgb "#1f77b4" title "dosnap --jobs 10 (default)", \
     datafile using 1:3 with linespoints lw 2 pt 5 lc rgb "#2ca02c" title "dosnap --jobs N", \
     datafile using 1:4 with linespoints lw 2 pt 9 lc rgb "#d62728" title "baseline: one at a time, polling every 10 s"
}
