# Sums the resident kB of /proc/PID/smaps by kind: the Java heap (the reserved range `jcmd PID GC.heap_info` printed for these runs, hard-coded below),
# glibc arena heaps (anonymous mappings starting at a 64 MiB boundary), other anonymous memory and file mappings;
# lists every anonymous mapping over 4 MB. Usage: python3 smaps-summary.py PID
import sys,re
pid=sys.argv[1]
jh=(0x687400000,0x800000000)
cur=None; out={'javaheap':0,'arena64':0,'anon_other':0,'file':0,'stack':0}
big=[]
with open(f'/proc/{pid}/smaps') as f:
    for line in f:
        m=re.match(r'^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$',line)
        if m:
            a,b,perm,name=int(m.group(1),16),int(m.group(2),16),m.group(3),m.group(4).strip()
            cur=(a,b,perm,name); continue
        if line.startswith('Rss:') and cur:
            kb=int(line.split()[1]); a,b,perm,name=cur
            if jh[0]<=a<jh[1]: k='javaheap'
            elif name.startswith('[stack'): k='stack'
            elif name.startswith('/') or name.startswith('['): k='file'
            elif a % (64<<20)==0: k='arena64'
            else: k='anon_other'
            out[k]+=kb
            if k in('anon_other','arena64') and kb>4000: big.append((k,hex(a),(b-a)>>20,kb>>10))
print(' '.join(f'{k}={v//1024}MB' for k,v in out.items()))
for x in sorted(big,key=lambda x:-x[3]): print('  ',x)
