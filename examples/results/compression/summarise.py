# Final validation loss per boundary compression over the seeds in DIR/<C>-seed<S>/comparison.csv, and each
# compression's per-seed difference to NONE. Usage: python3 summarise.py [DIR]
import csv,glob,os,sys,statistics as st
rows={}
for d in sorted(glob.glob('' + (sys.argv[1] if len(sys.argv) > 1 else 'examples/results/compression') + '/*')):
    if not os.path.exists(d+'/comparison.csv'): continue
    c,seed=os.path.basename(d).split('-seed')
    r=list(csv.DictReader(open(d+'/comparison.csv')))[-1]
    rows[(c,int(seed))]=(float(r['val_loss']),float(r['train_seconds']))
seeds=sorted({s for _,s in rows})
print('seeds',seeds)
for c in ['NONE','FP16','BF16','INT8']:
    v=[rows[(c,s)][0] for s in seeds if (c,s) in rows]
    d=[rows[(c,s)][0]-rows[('NONE',s)][0] for s in seeds if (c,s) in rows and ('NONE',s) in rows]
    if not v: continue
    sd=st.stdev(v) if len(v)>1 else float('nan')
    dsd=st.stdev(d) if len(d)>1 else float('nan')
    print(f"{c:5s} n={len(v)} per-seed {' '.join(f'{x:.4f}' for x in v)} mean {st.mean(v):.4f} sd {sd:.4f}  diff vs NONE {' '.join(f'{x:+.4f}' for x in d)} mean {st.mean(d):+.4f} sd {dsd:.4f}")
