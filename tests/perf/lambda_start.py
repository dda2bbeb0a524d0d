#!/usr/bin/env python3
"""Size and start-to-ready time of the Lambda function binaries against a hello-world baseline.

Start-to-ready is the time from spawning a binary to its first
`GET /2018-06-01/runtime/invocation/next` on a stand-in Lambda Runtime API (a python http.server on
127.0.0.1, free port): configuration read, tracing set up, AWS SDK client built, runtime polling.
The stub records the monotonic time the request arrives, holds it (no invocation is ever handed
out), reads the process's peak RSS from /proc, kills the process and moves on. Binaries are
interleaved round by round (baseline, event-scorer, admin-api, scheduled-jobs, baseline, ...) so
that load from other processes on a shared machine falls on all of them alike; the first binary of
each round rotates, and the first round is a discarded warm-up. The baseline also runs a second
time under another label, as an A/A control: its "ratio" shows how much of a ratio is noise.

Nothing leaves the machine: AWS_ENDPOINT_URL points at 127.0.0.1:9 and no invocation is served,
so the SDK never sends a request. The environment is built from scratch (no HOME, so no
~/.aws profile is read), like Lambda's.

Python 3 standard library only. See tests/perf/README.md for the build commands.
"""

import argparse
import json
import os
import statistics
import struct
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NEXT_PATH = "/2018-06-01/runtime/invocation/next"
MIB = 1024 * 1024


class Stub:
    """Shared state between the measuring loop and the stub's request handler threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.ready = threading.Event()  # set when the current process asks for its first event
        self.release = threading.Event()  # set once the current process is dead
        self.ready_ns = None
        self.other_requests = []  # anything but /next (e.g. /runtime/init/error)


def make_handler(stub):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            now = time.monotonic_ns()
            if self.path == NEXT_PATH:
                with stub.lock:
                    if stub.ready_ns is None:
                        stub.ready_ns = now
                stub.ready.set()
                # Hold the long poll, as the real Runtime API does between invocations, until
                # the process has been killed; then drop the connection without an answer.
                stub.release.wait(timeout=60)
                self.close_connection = True
                return
            self._other()

        def do_POST(self):
            self._other()

        def _other(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            with stub.lock:
                stub.other_requests.append((self.command, self.path, body[:500]))
            self.send_response(202)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")
            stub.ready.set()  # wake the loop: the process will not become ready

        def log_message(self, *args):
            pass

    return Handler


def elf_has_symtab(path):
    """True when the ELF64 little-endian file still has a .symtab section (i.e. is not stripped)."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        raise ValueError(f"{path}: not an ELF64 little-endian file")
    e_shoff = struct.unpack_from("<Q", data, 0x28)[0]
    e_shentsize, e_shnum, e_shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    sections = [struct.unpack_from("<IIQQQQ", data, e_shoff + i * e_shentsize) for i in range(e_shnum)]
    strtab_off = sections[e_shstrndx][4]

    def name(entry):
        start = strtab_off + entry[0]
        return data[start : data.index(b"\0", start)].decode()

    return any(entry[1] == 2 or name(entry) == ".symtab" for entry in sections)  # SHT_SYMTAB = 2


def proc_status_kib(pid, field):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def proc_cpu_ns(pid):
    """(CPU time, run-queue wait) in ns summed over the process's live threads (/proc schedstat)."""
    cpu = wait = 0
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                fields = f.read().split()
            cpu += int(fields[0])
            wait += int(fields[1])
    except (OSError, IndexError, ValueError):
        return None, None
    return cpu, wait


def base_env(port):
    return {
        "PATH": "/usr/bin:/bin",
        "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{port}",
        "AWS_LAMBDA_FUNCTION_NAME": "perf-start",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
        "AWS_LAMBDA_FUNCTION_VERSION": "1",
        "AWS_LAMBDA_LOG_STREAM_NAME": "perf/stream",
        "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/perf-start",
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "AKIDPERFSTART0000000",
        "AWS_SECRET_ACCESS_KEY": "perf-start-dummy-secret-not-a-real-key",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
        "TABLE_NAME": "crm",
        "JWT_SECRET": "perf-start-jwt-secret-0123456789abcdef",  # 38 bytes
    }


def start_once(stub, path, env, timeout):
    """Spawns `path`, waits for its first /next; returns ms from spawn, ms from exec, VmHWM KiB,
    CPU ms and run-queue wait ms (all threads) up to that point."""
    with stub.lock:
        stub.ready_ns = None
        stub.other_requests.clear()
    stub.ready.clear()
    stub.release.clear()
    t0 = time.monotonic_ns()
    proc = subprocess.Popen(
        [path], env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    t_exec = time.monotonic_ns()  # Popen returns once exec has succeeded
    try:
        got = stub.ready.wait(timeout)
        with stub.lock:
            ready_ns, others = stub.ready_ns, list(stub.other_requests)
        hwm = proc_status_kib(proc.pid, "VmHWM") if ready_ns is not None else None
        cpu_ns, wait_ns = proc_cpu_ns(proc.pid) if ready_ns is not None else (None, None)
    finally:
        proc.kill()
        _, stderr = proc.communicate()
        stub.release.set()
    if not got or ready_ns is None:
        raise RuntimeError(
            f"{path} never asked for an invocation (timeout={not got}, other requests={others}, "
            f"exit={proc.returncode})\nstderr:\n{stderr.decode(errors='replace')[-2000:]}"
        )
    return ((ready_ns - t0) / 1e6, (ready_ns - t_exec) / 1e6, hwm,
            cpu_ns / 1e6 if cpu_ns is not None else None, wait_ns / 1e6 if wait_ns is not None else None)


def pct(values, p):
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))
    return ordered[int(rank) - 1]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=31, help="measured rounds (default 31) after 1 warm-up")
    ap.add_argument("--target-dir", default=os.path.join(ROOT, "target"), help="workspace target dir")
    ap.add_argument(
        "--baseline",
        default=os.path.join(ROOT, "tests/perf/hello-lambda/target/release/hello-lambda"),
        help="hello-world lambda_runtime binary",
    )
    ap.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for a process's first /next")
    ap.add_argument("--pause", type=float, default=0.05, help="seconds between spawns")
    ap.add_argument("--no-control", action="store_true",
                    help="do not time the baseline a second time as an A/A control of the noise")
    ap.add_argument("--env", action="append", default=[], metavar="KEY=VALUE",
                    help="extra environment for every spawned binary (e.g. SSL_CERT_FILE=...); repeatable")
    ap.add_argument("--json", help="also write the raw samples and summary to this file")
    args = ap.parse_args()

    release = os.path.join(args.target_dir, "release")
    binaries = [
        ("hello-lambda (baseline)", args.baseline),
        ("event-scorer", os.path.join(release, "event-scorer")),
        ("admin-api", os.path.join(release, "admin-api")),
        ("scheduled-jobs", os.path.join(release, "scheduled-jobs")),
    ]
    if not args.no_control:
        binaries.append(("hello-lambda again (A/A control)", args.baseline))
    for label, path in binaries:
        if not os.access(path, os.X_OK):
            sys.exit(f"missing binary for {label}: {path} (see tests/perf/README.md)")

    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start")
    print("\n## Size (workspace release profile, see Cargo.toml)\n")
    print("| binary | bytes | MiB | stripped | < 8 MiB |")
    print("|---|---:|---:|---|---|")
    sizes = {}
    for label, path in binaries[:4]:
        size = os.path.getsize(path)
        stripped = not elf_has_symtab(path)
        sizes[label] = {"bytes": size, "stripped": stripped}
        print(f"| {label} | {size:,} | {size / MIB:.2f} | {'yes' if stripped else 'NO'} | "
              f"{'yes' if size < 8 * MIB else 'NO'} |")

    stub = Stub()
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(stub))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = base_env(server.server_address[1])
    for item in args.env:
        key, _, value = item.partition("=")
        env[key] = value
    if args.env:
        print(f"\nextra environment: {' '.join(args.env)}")

    samples = {label: {"spawn_ms": [], "exec_ms": [], "hwm_kib": [], "cpu_ms": [], "wait_ms": []} for label, _ in binaries}
    for round_no in range(args.rounds + 1):
        # Interleaved, and the starting binary rotates each round so none always follows the pause.
        shift = round_no % len(binaries)
        for label, path in binaries[shift:] + binaries[:shift]:
            spawn_ms, exec_ms, hwm, cpu_ms, wait_ms = start_once(stub, path, env, args.timeout)
            if round_no > 0:  # round 0 warms the page cache
                samples[label]["spawn_ms"].append(spawn_ms)
                samples[label]["exec_ms"].append(exec_ms)
                if hwm is not None:
                    samples[label]["hwm_kib"].append(hwm)
                if cpu_ms is not None:
                    samples[label]["cpu_ms"].append(cpu_ms)
                    samples[label]["wait_ms"].append(wait_ms)
            time.sleep(args.pause)
    server.shutdown()

    base_median = statistics.median(samples[binaries[0][0]]["spawn_ms"])
    base_exec_median = statistics.median(samples[binaries[0][0]]["exec_ms"])
    base_cpu = samples[binaries[0][0]]["cpu_ms"]
    base_cpu_median = statistics.median(base_cpu) if base_cpu else None
    print(f"\n## Start-to-ready ({args.rounds} interleaved rounds after 1 warm-up, "
          f"{args.rounds * len(binaries)} spawns; "
          f"load average {os.getloadavg()[0]:.2f} at end)\n")
    print("| binary | median ms | p90 ms | min ms | median from exec ms | ratio to baseline (median) "
          "| ratio from exec | CPU ms to ready (median) | CPU ratio | run-queue wait ms (median) "
          "| peak RSS (VmHWM) median |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    summary = {}
    for label, _ in binaries:
        s = samples[label]
        med = statistics.median(s["spawn_ms"])
        row = {
            "median_ms": med,
            "p90_ms": pct(s["spawn_ms"], 90),
            "min_ms": min(s["spawn_ms"]),
            "median_from_exec_ms": statistics.median(s["exec_ms"]),
            "ratio": med / base_median,
            "ratio_from_exec": statistics.median(s["exec_ms"]) / base_exec_median,
            "cpu_ms_median": statistics.median(s["cpu_ms"]) if s["cpu_ms"] else None,
            "wait_ms_median": statistics.median(s["wait_ms"]) if s["wait_ms"] else None,
            "vmhwm_kib_median": statistics.median(s["hwm_kib"]) if s["hwm_kib"] else None,
        }
        summary[label] = row
        rss = f"{row['vmhwm_kib_median'] / 1024:.1f} MiB" if row["vmhwm_kib_median"] else "n/a"
        if row["cpu_ms_median"] is not None and base_cpu_median:
            cpu = f"{row['cpu_ms_median']:.2f} | {row['cpu_ms_median'] / base_cpu_median:.2f}× | {row['wait_ms_median']:.2f}"
        else:
            cpu = "n/a | n/a | n/a"
        print(f"| {label} | {row['median_ms']:.2f} | {row['p90_ms']:.2f} | {row['min_ms']:.2f} | "
              f"{row['median_from_exec_ms']:.2f} | {row['ratio']:.2f}× | "
              f"{row['ratio_from_exec']:.2f}× | {cpu} | {rss} |")

    functions = [label for label, _ in binaries[1:4]]
    worst = max(summary[label]["ratio"] for label in functions)
    print(f"\nworst function ratio: {worst:.2f}× (target ≤ 1.5×)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"sizes": sizes, "summary": summary, "samples": samples}, f, indent=1)


if __name__ == "__main__":
    main()
