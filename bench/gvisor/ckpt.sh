#!/bin/bash
# ckpt.sh NAME : cold start to "ready", checkpoint, restore to "alive"
N=$1; cd /tmp/gv; rm -rf img-$N; mkdir img-$N
T0=$(date +%s%N); runsc --root /tmp/gv/state --network=none run --bundle /tmp/gv/b $N > out-$N.log 2>&1 &
for i in $(seq 1 2000); do grep -q ready out-$N.log && break; sleep 0.005; done; T1=$(date +%s%N)
sleep 0.3
T2=$(date +%s%N); runsc --root /tmp/gv/state checkpoint --image-path=/tmp/gv/img-$N $N; T3=$(date +%s%N)
wait
runsc --root /tmp/gv/state delete -force $N 2>/dev/null
T4=$(date +%s%N); runsc --root /tmp/gv/state --network=none restore --image-path=/tmp/gv/img-$N --bundle /tmp/gv/b $N > rest-$N.log 2>&1 &
for i in $(seq 1 2000); do grep -q alive rest-$N.log && break; sleep 0.005; done; T5=$(date +%s%N)
echo "$N cold-to-ready $(( (T1-T0)/1000000 )) ms; checkpoint $(( (T3-T2)/1000000 )) ms; image $(du -k img-$N/checkpoint.img | cut -f1) KiB; restore-to-running $(( (T5-T4)/1000000 )) ms"
runsc --root /tmp/gv/state kill $N KILL; wait; runsc --root /tmp/gv/state delete -force $N 2>/dev/null
T6=$(date +%s%N); runsc --root /tmp/gv/state --network=none restore --image-path=/tmp/gv/img-$N --bundle /tmp/gv/b $N > rest2-$N.log 2>&1 &
for i in $(seq 1 2000); do grep -q alive rest2-$N.log && break; sleep 0.005; done; T7=$(date +%s%N)
echo "   second restore-to-running $(( (T7-T6)/1000000 )) ms"
head -1 out-$N.log; head -1 rest-$N.log; head -1 rest2-$N.log
runsc --root /tmp/gv/state kill $N KILL; wait; runsc --root /tmp/gv/state delete -force $N 2>/dev/null
