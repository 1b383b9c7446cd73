"""What the perf scripts share: building, starting pinned servers, reading
their CPU time, memory and INFO, a data file to load, and the machine's
facts for the results."""

import os
import platform
import socket
import subprocess
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def target_dir():
    return os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))


def build():
    subprocess.run(["cargo", "build", "--release", "--quiet", "-p", "shoal", "-p", "shoal-load",
                    "--bin", "shoal-server", "--bin", "shoal-load"], cwd=ROOT, check=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid):
    """utime + stime of every thread of the process, in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Server:
    def __init__(self, name, argv, cpu):
        self.name = name
        self.port = free_port()
        self.proc = subprocess.Popen(["taskset", "-c", cpu] + argv + ["--port", str(self.port)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"{name} did not start on port {self.port}")
            time.sleep(0.05)

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def machine_facts():
    model = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    redis = subprocess.run(["redis-server", "--version"], capture_output=True, text=True).stdout.strip()
    return {"cpus": os.cpu_count(), "cpu_model": model, "kernel": platform.release(),
            "arch": platform.machine(), "redis": redis, "shoal_rev": rev}


def shoal_load(port, cpu, *args):
    """Runs perf/loadgen's shoal-load pinned to `cpu` with `--csv` and returns
    its result row (test, ops_per_sec, p50_ms, p99_ms, p999_ms, errors...)."""
    argv = ["taskset", "-c", cpu, os.path.join(target_dir(), "release", "shoal-load"),
            "-p", str(port), "--csv", *map(str, args)]
    out = subprocess.run(argv, check=True, capture_output=True, text=True).stdout
    header, row = out.strip().splitlines()[-2:]
    return dict(zip(header.split(","), row.split(",")))


def rss_bytes(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


def info_fields(port):
    """INFO's fields as a dict, over a plain socket (no client library needed)."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(b"INFO\r\n")
        buf = b""
        while b"\r\n" not in buf:
            buf += s.recv(65536)
        head, rest = buf.split(b"\r\n", 1)
        size = int(head[1:])
        while len(rest) < size + 2:
            rest += s.recv(65536)
    fields = {}
    for line in rest[:size].decode().splitlines():
        if ":" in line and not line.startswith("#"):
            k, v = line.split(":", 1)
            fields[k] = v
    return fields


def server_commands(shoal_args, redis_server="redis-server"):
    """The command line of each server, persistence off (the port is added by Server)."""
    return {
        "redis": [redis_server, "--save", "", "--appendonly", "no"],
        "shoal": [os.path.join(target_dir(), "release", "shoal-server"), "--save", "", *shoal_args],
    }


def call(port, *args):
    with socket.create_connection(("127.0.0.1", port), timeout=600) as s:
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            a = str(a).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        s.sendall(b"".join(out))
        return s.recv(1 << 16)


def commands_processed(port):
    return int(info_fields(port)["total_commands_processed"])


def sample_rss(pid, stop, peak):
    while not stop.is_set():
        try:
            peak[0] = max(peak[0], rss_bytes(pid))
        except (OSError, RuntimeError):
            return
        time.sleep(0.02)


def make_rdb(workdir, keys, size):
    """An RDB file of `keys` keys of `size`-byte values, named as
    redis-benchmark names its keys (key:000000000042), made once per workdir."""
    path = os.path.join(workdir, "data.rdb")
    if os.path.exists(path):
        return path
    maker = Server("maker", ["redis-server", "--save", "", "--dir", workdir, "--dbfilename", "data.rdb"], "0")
    try:
        value = b"x" * size
        feed = subprocess.Popen(["redis-cli", "-p", str(maker.port), "--pipe"], stdin=subprocess.PIPE,
                                stdout=subprocess.DEVNULL)
        for start in range(0, keys, 100_000):
            batch = []
            for i in range(start, min(keys, start + 100_000)):
                k = b"key:%012d" % i
                batch.append(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(k), k, size, value))
            feed.stdin.write(b"".join(batch))
        feed.stdin.close()
        feed.wait()
        call(maker.port, "SAVE")
    finally:
        maker.stop()
    return path
