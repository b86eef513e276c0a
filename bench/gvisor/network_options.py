import subprocess, time, os, statistics, sys, json, shutil
N = int(sys.argv[1]) if len(sys.argv) > 1 else 5
os.chdir("/tmp/gv")
def bundle(relay, userns_net):
    env = dict(os.environ)
    if relay: env["RELAY"] = "1"
    else: env.pop("RELAY", None)
    nss = [{"type":"pid"},{"type":"ipc"},{"type":"uts"},{"type":"mount"}]
    env["NSS"] = json.dumps(nss)
    subprocess.run(["python3", "mkbundle.py", "", "1769"], env=env, check=True, stdout=subprocess.DEVNULL)
    if relay:
        c = json.load(open("b/config.json"))
        assert c["process"]["args"][0] == "/.ignis/bin/relay", c["process"]["args"]
def run_one(mode, name):
    relay = mode == "none+relay"
    logf = open(f"bench-{name}.log", "w")
    if relay:
        api = subprocess.Popen(["python3", "api_uds.py", "0"], stdout=logf, stderr=subprocess.STDOUT)
    else:
        api = subprocess.Popen(["ip", "netns", "exec", "gvexp1", "python3", "api.py", "0"], stdout=logf, stderr=subprocess.STDOUT)
    time.sleep(0.6)
    if mode == "bare":
        cmd = ["ip", "netns", "exec", "gvexp1", "setpriv", "--reuid", "200600", "--regid", "200600", "--clear-groups",
               "env", "-i", "AWS_LAMBDA_RUNTIME_API=127.0.0.1:9001", "/usr/bin/python3.11", "-u", "/tmp/gv/rtdir/runtime.py"]
    elif mode == "rootless+host":
        shutil.rmtree("/tmp/gvru", ignore_errors=True); os.mkdir("/tmp/gvru"); os.chown("/tmp/gvru", 200600, 200600)
        cmd = ["ip", "netns", "exec", "gvexp1", "setpriv", "--reuid", "200600", "--regid", "200600", "--clear-groups", "env", "-i",
               "PATH=/usr/bin:/bin", "runsc", "--root", "/tmp/gvru", "--rootless", "--ignore-cgroups", "--network=host", "run", "--bundle", "/tmp/gv/b", name]
    elif mode == "root+host":
        cmd = ["ip", "netns", "exec", "gvexp1", "runsc", "--root", "/tmp/gv/state", "--ignore-cgroups", "--network=host", "run", "--bundle", "/tmp/gv/b", name]
    else:
        cmd = ["runsc", "--root", "/tmp/gv/state", "--ignore-cgroups", "--network=none", "--host-uds=open", "run", "--bundle", "/tmp/gv/b", name]
    t0 = time.time()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    gets = []
    deadline = t0 + 30
    while time.time() < deadline:
        lines = [l for l in open(f"bench-{name}.log").read().splitlines() if l.startswith("GET")]
        if len(lines) >= 80: break
        time.sleep(0.005)
    # api.py prints seconds since t0=0 i.e. epoch
    ts = [float(l.split("at +")[1].split()[0]) for l in lines]
    p.kill(); p.wait()
    if mode != "bare":
        root = "/tmp/gvru" if mode == "rootless+host" else "/tmp/gv/state"
        subprocess.run(["runsc", "--root", root, "delete", "-force", name], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    api.kill(); api.wait()
    first = ts[0] - t0
    rt = statistics.median([b - a for a, b in zip(ts[10:79], ts[11:80])])
    return first, rt
modes = ["bare", "rootless+host", "root+host", "none+relay"]
res = {m: [] for m in modes}
for i in range(N):
    for m in modes:
        bundle(m == "none+relay", False)
        try:
            res[m].append(run_one(m, f"bn{i}{modes.index(m)}"))
        except Exception as e:
            print("fail", m, e)
for m in modes:
    f = [x[0] for x in res[m]]; r = [x[1] for x in res[m]]
    print(f"{m:14s} first /next p50 {statistics.median(f)*1000:7.1f} ms (min {min(f)*1000:.1f}, max {max(f)*1000:.1f})  warm loop p50 {statistics.median(r)*1e6:7.0f} us  n={len(f)}")
