import json, sys
net = sys.argv[1]  # netns path or ""
import os
UIDH=int(os.environ.get("UIDH","200600"))
USERNS=[{"type":"user"}] if os.environ.get("USERNS") else []
mem = int(sys.argv[2]) if len(sys.argv)>2 else 256
args = sys.argv[3:] or ["/usr/bin/python3.11","-u","/var/runtime/runtime.py"]
if os.environ.get("RELAY"): args=["/.ignis/bin/relay","/.ignis/api/api.sock","--"]+args
ro = ["nosuid","nodev","rbind","ro"]
cfg = {
 "ociVersion":"1.0.2",
 "process":{"terminal":False,"user":{"uid":int(os.environ.get("INUID","993")),"gid":int(os.environ.get("INUID","993"))},"args":args,
   "env":["PATH=/usr/bin:/bin","AWS_LAMBDA_RUNTIME_API=127.0.0.1:9001","HOME=/tmp","LANG=C.UTF-8"],
   "cwd":"/var/task","capabilities":{"bounding":[],"effective":[],"inheritable":[],"permitted":[],"ambient":[]},
   "rlimits":[{"type":"RLIMIT_NOFILE","hard":1024,"soft":1024},{"type":"RLIMIT_CORE","hard":0,"soft":0}],
   "noNewPrivileges":True},
 "root":{"path":"/tmp/gv/rootfs","readonly":True},
 "hostname":"sandbox",
 "mounts":[
  {"destination":"/proc","type":"proc","source":"proc"},
  {"destination":"/dev","type":"tmpfs","source":"tmpfs","options":["nosuid","strictatime","mode=755","size=65536k"]},
  {"destination":"/tmp","type":"tmpfs","source":"tmpfs","options":["nosuid","nodev","size=64m","mode=1777"]},
  *([{"destination":"/.ignis/bin","type":"bind","source":"/tmp/gv/relay","options":ro},{"destination":"/.ignis/api","type":"bind","source":"/tmp/gv/sock","options":["nosuid","nodev","rbind"]}] if os.environ.get("RELAY") else []),
  {"destination":"/usr","type":"bind","source":"/usr","options":ro},
  {"destination":"/var/runtime","type":"bind","source":"/tmp/gv/rtdir","options":ro},
  {"destination":"/var/task","type":"bind","source":"/tmp/gv/task","options":ro},
 ],
 "linux":{
  "resources":{"memory":{"limit":mem*1024*1024,"swap":mem*1024*1024},"cpu":{"quota":int(100000*mem/1769),"period":100000},"pids":{"limit":128}},
  "cgroupsPath":"/ignis-gvexp/"+sys.argv[4] if False else "/ignis-gvexp",
  "namespaces":json.loads(os.environ.get("NSS","[]")),
  **({"uidMappings":[{"containerID":0,"hostID":UIDH,"size":1}],"gidMappings":[{"containerID":0,"hostID":UIDH,"size":1}]} if USERNS else {}),"maskedPaths":[],"readonlyPaths":[]
 }
}
json.dump(cfg, open("/tmp/gv/b/config.json","w"), indent=1)
