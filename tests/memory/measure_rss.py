"""Measures the gateway binary's RSS at rest, at its peak during bursts of large chat requests
and two and five seconds after each burst, against the emulator binary. Not part of `make test`
(it takes about a minute and its numbers depend on the machine); the numbers are quoted in
src/memory.rs. Build first (`cargo build --workspace --bins`), then:

    python3 tests/memory/measure_rss.py target/debug/bedrock-gateway target/debug/bedrock-emulator [ENV=VALUE ...]
"""
import json, os, re, subprocess, sys, threading, time, urllib.request, concurrent.futures

gw_bin, emu_bin = sys.argv[1], sys.argv[2]
extra = dict(a.split("=", 1) for a in sys.argv[3:])

def start(cmd, env, pattern):
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    line = p.stdout.readline().decode()
    url = re.search(pattern, line).group(1)
    threading.Thread(target=lambda: [None for _ in p.stdout], daemon=True).start()
    return p, url

base = {"PATH": "/usr/bin:/bin", "AWS_EC2_METADATA_DISABLED": "true"}
emu, emu_url = start([emu_bin, "--host", "127.0.0.1", "--port", "0"], base, r"(http://\S+)")
env = dict(base, HOST="127.0.0.1", PORT="0", API_KEY="k", AWS_REGION="us-east-1",
           AWS_ACCESS_KEY_ID="AKIDEXAMPLE", AWS_SECRET_ACCESS_KEY="s",
           AWS_ENDPOINT_URL_BEDROCK_RUNTIME=emu_url, AWS_ENDPOINT_URL_BEDROCK=emu_url, RUST_LOG="warn")
env.update(extra)
gw, url = start([gw_bin], env, r"(http://\S+)")

def rss(field="VmRSS"):
    for line in open(f"/proc/{gw.pid}/status"):
        if line.startswith(field):
            return int(line.split()[1]) // 1024
def post(body):
    req = urllib.request.Request(url + "/api/v1/chat/completions", data=body,
        headers={"Authorization": "Bearer k", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=300) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code

model = "anthropic.claude-3-5-haiku-20241022-v1:0"
post(json.dumps({"model": model, "messages": [{"role": "user", "content": "warm up"}]}).encode())
print("baseline MB", rss())
# The attack: 199,999 tiny messages (8.4 MB).
tiny = json.dumps({"model": model, "messages": [{"role": "user", "content": "x"}] * 199_999}).encode()
# The largest accepted shape: 9,999 messages of ~900 bytes of text (about 9.5 MB).
msgs = [{"role": "user" if i % 2 == 0 else "assistant", "content": ("w%d " % i) * 150} for i in range(9_999)]
big = json.dumps({"model": model, "messages": msgs}).encode()
print("tiny body MB %.1f, big body MB %.1f" % (len(tiny) / 1e6, len(big) / 1e6))
for name, body in [("tiny x1", tiny), ("tiny x4", tiny), ("big x1", big), ("big x4", big), ("big x4 again", big)]:
    n = 1 if name.endswith("x1") else 4
    peak = [0]
    done = threading.Event()
    def watch():
        while not done.is_set():
            peak[0] = max(peak[0], rss()); time.sleep(0.005)
    t = threading.Thread(target=watch); t.start()
    t0 = time.time()
    with concurrent.futures.ThreadPoolExecutor(n) as ex:
        statuses = list(ex.map(post, [body] * n))
    done.set(); t.join()
    time.sleep(2)
    a2 = rss(); time.sleep(3)
    print(f"{name}: statuses {statuses} in {time.time()-t0-5:.1f}s, peak RSS {peak[0]} MB, after 2 s {a2} MB, after 5 s {rss()} MB")
gw.terminate(); emu.terminate()
