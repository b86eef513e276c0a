import sys, time, os, json, http.client, email, urllib.request, ssl, decimal, datetime, uuid, hashlib, base64, random
t0 = time.time()
print("ready", random.random(), flush=True)
last = time.time()
while True:
    time.sleep(0.005)
    now = time.time()
    if now - last > 0.3:
        print("alive after gap %.3f random %r" % (now - last, random.random()), flush=True)
    last = now
