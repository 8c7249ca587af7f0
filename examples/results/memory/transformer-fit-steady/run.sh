#!/bin/bash
S=/work/runs/snap10; O=/work/runs/soak-fit
env -i PATH=$PATH HOME=$HOME LANG=C.UTF-8 OMP_NUM_THREADS=1 PROGRESS=lines java -cp $S/classes:$(cat $S/cp) io.asyncpipeline.examples.MemorySoak --cases transformer-fit --micro-batches 5000 --every 500 --out $O > $O/transformer-fit.log 2>&1 &
P=$!
while kill -0 $P 2>/dev/null; do echo "$(date +%s) $(ps -o rss= -p $P)" >> $O/transformer-fit-rss-5s.txt; sleep 5; done
