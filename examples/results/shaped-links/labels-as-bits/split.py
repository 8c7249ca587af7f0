"""Per-direction split of ShapedLinkBenchmark CSVs: the bytes the timed fit's micro-batches put on each link
direction, and the rest (the stage state shipped out and back). usage: python3 split.py DIR/shaped-links.csv ..."""
import csv,sys
for f in sys.argv[1:]:
    for r in csv.DictReader(open(f)):
        n=64; w=int(r['warmup_micro_batches'])
        names=['host0_sent_bytes','host1_sent_bytes','to_host0_bytes','to_host1_bytes']
        print(f.split('/')[-2], r['mbit_per_s'], r['compression'], 'ex/s %.1f'%float(r['examples_per_s']), 'pipe s', r['seconds'][:5], 'call s', r['fit_seconds'][:5], 'use %.3f / %.3f'%(float(r['busiest_link_use']),float(r['busiest_link_use_fit_call'])))
        for k in names:
            B=int(r[k]); A=int(r['warmup_'+k]); per=(B-A)/(n-w)
            print('   %-8s timed %.2f ref %.2f  micro %.2f  state %.2f'%(k[:8], B/1e6, A/1e6, per*n/1e6, (B-per*n)/1e6))
