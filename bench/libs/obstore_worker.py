"""Python's obstore in the bench: one measurement, driven by bench/libs/obstore.mjs.

The bench's workloads are JavaScript (bench/workloads/*.mjs); obstore is a Python library, so
this process runs the same workloads with obstore's asyncio API and times its own loop: the
JSON-lines pipe to Node carries only the phases (open, prepare, warmup, run, close) and the
result, never an operation. Each phase is one request line on stdin and one response line on
stdout:

    {"cmd": "open", "job": {...}}  ->  {"ok": true}
    {"cmd": "run"}                 ->  {"ok": true, "result": {"seconds": ..., "ops": ...}}
    anything failing               ->  {"ok": false, "error": "..."}

`run` is timed like bench/worker.mjs times `wl.run(ctx)`: wall time (time.perf_counter()) around
the coroutine that issues every operation and awaits the last, CPU from getrusage(RUSAGE_SELF)
(user + system, every thread: obstore's Rust runtime too) and the process's peak RSS. The
workloads below mirror the JavaScript ones one for one: same keys, sizes, concurrency (the same
worker pool), warm-ups and checks.
"""

import asyncio
import json
import os
import resource
import signal
import sys
import time
from datetime import timedelta
from pathlib import Path

import obstore as obs
from obstore.store import LocalStore, MemoryStore, S3Store

MiB = 1024 * 1024
EXPIRES = timedelta(seconds=3600)
LIB = "obstore"


def key(prefix, i):
    """The bench's key scheme (bench/util.mjs `key`)."""
    return f"{prefix}/{i:06d}"


def payload(size):
    """`size` bytes: one random MiB repeated (contents do not matter, sizes do)."""
    block = os.urandom(min(size, MiB))
    whole, rest = divmod(size, len(block))
    return block * whole + block[:rest]


def generated(total, chunk_size=MiB):
    """`total` bytes as one reused chunk, like bench/util.mjs `generated` (no allocation per chunk)."""
    chunk = memoryview(bytes([0x61]) * chunk_size)
    left = total
    while left > 0:
        n = min(left, chunk_size)
        left -= n
        yield chunk if n == chunk_size else chunk[:n]


async def pool(n, concurrency, fn):
    """fn(i) for i in [0, n), at most `concurrency` in flight (bench/util.mjs `pool`)."""
    await timed_pool(n, 0, concurrency, fn)


async def timed_pool(n, min_seconds, concurrency, fn):
    """fn(i % n), at most `concurrency` in flight, n calls at least and more until `min_seconds`
    have passed; returns the calls made (bench/util.mjs `timedPool`)."""
    end = time.perf_counter() + min_seconds
    next_i = 0

    async def worker():
        nonlocal next_i
        while next_i < n or time.perf_counter() < end:
            i = next_i
            next_i += 1
            await fn(i % n)

    await asyncio.gather(*(worker() for _ in range(min(n, concurrency))))
    return next_i


class Obstore:
    """The adapter: the bench's small interface (bench/libs/*.mjs) over obstore's async API."""

    def __init__(self, target):
        kind = target["kind"]
        if kind == "s3":
            self.store = S3Store(
                target["bucket"],
                endpoint=target["endpoint"],
                region=target["region"],
                access_key_id=target["accessKeyId"],
                secret_access_key=target["secretAccessKey"],
                virtual_hosted_style_request=False,
                client_options={"allow_http": True},
            )
        elif kind == "local":
            self.store = LocalStore(target["dir"], mkdir=True)
        else:
            self.store = MemoryStore()

    async def put_bytes(self, k, buf):
        # as shipped: a multipart upload above chunk_size (5 MiB parts, 12 at a time)
        await obs.put_async(self.store, k, buf)

    async def put_stream(self, k, source):
        # a Path is read by obstore itself; an iterable of buffers is streamed as a multipart upload
        await obs.put_async(self.store, k, source)

    async def get_bytes(self, k):
        return len(await (await obs.get_async(self.store, k)).bytes_async())

    async def get_to_file(self, k, file):
        result = await obs.get_async(self.store, k)
        with open(file, "wb") as out:
            async for chunk in result:
                out.write(chunk)

    async def get_drain(self, k):
        n = 0
        async for chunk in await obs.get_async(self.store, k):
            n += len(chunk)
        return n

    async def get_range(self, k, start, end):
        return len(await obs.get_range_async(self.store, k, start=start, end=end))

    async def list(self, prefix):
        n = 0
        async for batch in obs.list(self.store, prefix):
            n += len(batch)
        return n

    # obstore's synchronous `sign`: signing needs no I/O, and here it signs about twice as many
    # URLs a second one at a time as `sign_async`
    def presign(self, keys):
        """The batch form: one call signs many paths (1000 a call, as libs/stowage.mjs does)."""
        n = 0
        for i in range(0, len(keys), 1000):
            n += len(obs.sign(self.store, "GET", keys[i : i + 1000], EXPIRES))
        return n

    def presign_each(self, keys):
        """One call per URL."""
        for k in keys:
            obs.sign(self.store, "GET", k, EXPIRES)
        return len(keys)


def expect(what, got, want):
    if got != want:
        raise RuntimeError(f"{what} {got}, expected {want}")


class Ctx:
    """A workload's context, as bench/worker.mjs's `ctx`."""

    def __init__(self, job):
        self.cfg = job["cfg"]
        self.target = job["target"]
        self.paths = job["paths"]
        self.lib = Obstore(self.target)


class EventLoopDelay:
    """A 1 ms timer's intervals while the loop runs other work, as Node's
    monitorEventLoopDelay({ resolution: 1 }) records them; p99 in ms."""

    def __init__(self):
        self.intervals = []
        self.task = asyncio.ensure_future(self._tick())

    async def _tick(self):
        last = time.perf_counter()
        while True:
            await asyncio.sleep(0.001)
            now = time.perf_counter()
            self.intervals.append(now - last)
            last = now

    def stop(self):
        self.task.cancel()
        s = sorted(self.intervals) or [0.0]
        return s[min(len(s) - 1, int(len(s) * 0.99))] * 1e3


# ---- the workloads (bench/workloads/*.mjs, same ids) -----------------------------------------


def small_put(count, concurrency, size):
    async def prepare(ctx):
        ctx.buf = payload(ctx.cfg[size])

    async def warmup(ctx):
        await pool(64, ctx.cfg[concurrency], lambda i: ctx.lib.put_bytes(key(f"put/{LIB}/small-warm", i), ctx.buf))

    async def run(ctx):
        ops = await timed_pool(ctx.cfg[count], ctx.cfg["minRunSeconds"], ctx.cfg[concurrency],
                               lambda i: ctx.lib.put_bytes(key(f"put/{LIB}/small", i), ctx.buf))
        return {"ops": ops}

    return {"prepare": prepare, "warmup": warmup, "run": run}


def small_get(count, concurrency, size, prefix="fixtures/small", fill=False):
    async def prepare(ctx):
        if fill:  # memory: the objects are this process's own, put before the warm-up
            buf = payload(ctx.cfg[size])
            await pool(ctx.cfg[count], ctx.cfg[concurrency], lambda i: ctx.lib.put_bytes(key(prefix, i), buf))

    async def warmup(ctx):
        await pool(64, ctx.cfg[concurrency], lambda i: ctx.lib.get_bytes(key(prefix, i)))

    async def run(ctx):
        want = ctx.cfg[size]

        async def one(i):
            expect("got", await ctx.lib.get_bytes(key(prefix, i)), want)

        ops = await timed_pool(ctx.cfg[count], ctx.cfg["minRunSeconds"], ctx.cfg[concurrency], one)
        return {"ops": ops}

    return {"prepare": prepare, "warmup": warmup, "run": run}


def ranges(count, concurrency):
    async def warmup(ctx):
        # as many reads as will be in flight, so the connection pool is open (workloads/s3-small.mjs)
        n = max(64, ctx.cfg[concurrency])
        await pool(n, ctx.cfg[concurrency], lambda _: ctx.lib.get_range("fixtures/large", 0, ctx.cfg["rangeBytes"]))

    async def run(ctx):
        want = ctx.cfg["rangeBytes"]

        async def one(_):
            expect("got", await ctx.lib.get_range("fixtures/large", 0, want), want)

        ops = await timed_pool(ctx.cfg[count], ctx.cfg["minRunSeconds"], ctx.cfg[concurrency], one)
        return {"ops": ops}

    return {"warmup": warmup, "run": run}


def presigning(method):
    async def prepare(ctx):
        ctx.keys = [key("fixtures/small", i) for i in range(ctx.cfg["presignCount"])]

    async def warmup(ctx):
        getattr(ctx.lib, method)(ctx.keys)  # the whole run once, as bench/workloads/s3-meta.mjs does

    async def run(ctx):
        expect("signed", getattr(ctx.lib, method)(ctx.keys), len(ctx.keys))
        return {"ops": len(ctx.keys)}

    return {"prepare": prepare, "warmup": warmup, "run": run}


def read_one(method, warm, path, size, unit):
    """One call of the adapter's `method` on `path` (warmed up on `warm`), checked against cfg[size]."""

    async def warmup(ctx):
        await getattr(ctx.lib, method)(warm)

    async def run(ctx):
        n = await getattr(ctx.lib, method)(path)
        expect("read", n, ctx.cfg[size])
        return {unit: n}

    return {"warmup": warmup, "run": run}


async def list_warmup(ctx):
    await ctx.lib.list("fixtures/list")


async def list_run(ctx):
    """cfg["listRounds"] listings of the same keys, as workloads/s3-meta.mjs does."""
    for _ in range(ctx.cfg["listRounds"]):
        expect("listed", await ctx.lib.list("fixtures/list"), ctx.cfg["listCount"])
    return {"ops": ctx.cfg["listCount"] * ctx.cfg["listRounds"]}


async def large_put_mem_prepare(ctx):
    ctx.buf = payload(ctx.cfg["largeBytes"])


async def large_put_mem_warmup(ctx):
    await ctx.lib.put_bytes(f"put/{LIB}/large-warm", memoryview(ctx.buf)[:MiB])


async def large_put_mem_run(ctx):
    loop = EventLoopDelay()
    await ctx.lib.put_bytes(f"put/{LIB}/large", ctx.buf)
    return {"bytes": ctx.cfg["largeBytes"], "eventLoopP99Ms": loop.stop()}


async def large_put_file_warmup(ctx):
    with open(ctx.paths["largeSource"], "rb") as f:
        await ctx.lib.put_stream(f"put/{LIB}/large-warm", f.read(MiB))


async def large_put_file_run(ctx):
    await ctx.lib.put_stream(f"put/{LIB}/large", Path(ctx.paths["largeSource"]))
    return {"bytes": ctx.cfg["largeBytes"]}


async def large_get_file_prepare(ctx):
    ctx.out = os.path.join(ctx.paths["tmp"], f"download-{LIB}.bin")


async def large_get_file_warmup(ctx):
    await ctx.lib.get_to_file("fixtures/warm/0", ctx.out)


async def large_get_file_run(ctx):
    await ctx.lib.get_to_file("fixtures/large", ctx.out)
    n = os.path.getsize(ctx.out)
    os.remove(ctx.out)
    expect("wrote", n, ctx.cfg["largeBytes"])
    return {"bytes": n}


def clean_local(ctx):
    import shutil

    shutil.rmtree(os.path.join(ctx.target["dir"], "put", LIB), ignore_errors=True)


async def local_small_put_prepare(ctx):
    clean_local(ctx)
    ctx.buf = payload(ctx.cfg["localSmallBytes"])


async def local_large_put_prepare(ctx):
    clean_local(ctx)


async def local_large_put_warmup(ctx):
    await ctx.lib.put_stream(f"put/{LIB}/large-warm", generated(MiB))


async def local_large_put_run(ctx):
    await ctx.lib.put_stream(f"put/{LIB}/large", generated(ctx.cfg["localLargeBytes"]))
    n = os.path.getsize(os.path.join(ctx.target["dir"], "put", LIB, "large"))
    expect("wrote", n, ctx.cfg["localLargeBytes"])
    return {"bytes": n}


async def local_buffer_prepare(ctx):
    clean_local(ctx)
    ctx.buf = payload(ctx.cfg["localBufferBytes"])


async def local_buffer_warmup(ctx):
    await ctx.lib.put_bytes(f"put/{LIB}/buffer-warm", ctx.buf[:MiB])


async def local_buffer_run(ctx):
    k = f"put/{LIB}/buffer"
    await ctx.lib.put_bytes(k, ctx.buf)
    n = await ctx.lib.get_bytes(k)
    expect("read back", n, len(ctx.buf))
    return {"bytes": n}


WORKLOADS = {
    "s3-large-put-mem": {"prepare": large_put_mem_prepare, "warmup": large_put_mem_warmup, "run": large_put_mem_run},
    "s3-large-put-file": {"warmup": large_put_file_warmup, "run": large_put_file_run},
    "s3-large-get-mem": read_one("get_bytes", "fixtures/warm/0", "fixtures/large", "largeBytes", "bytes"),
    "s3-large-get-file": {"prepare": large_get_file_prepare, "warmup": large_get_file_warmup, "run": large_get_file_run},
    "s3-small-put": small_put("smallCount", "smallConcurrency", "smallBytes"),
    "s3-small-get": small_get("smallCount", "smallConcurrency", "smallBytes"),
    "s3-range": ranges("rangeCount", "rangeConcurrency"),
    "s3-range-cog": ranges("cogCount", "cogConcurrency"),
    "s3-list": {"warmup": list_warmup, "run": list_run},
    "presign": presigning("presign"),
    "presign-one": presigning("presign_each"),
    "local-small-put": {**small_put("localSmallCount", "localConcurrency", "localSmallBytes"), "prepare": local_small_put_prepare},
    "local-small-get": small_get("localSmallCount", "localConcurrency", "localSmallBytes"),
    "local-large-put": {"prepare": local_large_put_prepare, "warmup": local_large_put_warmup, "run": local_large_put_run},
    "local-buffer-put-get": {"prepare": local_buffer_prepare, "warmup": local_buffer_warmup, "run": local_buffer_run},
    "local-large-get": read_one("get_drain", key("fixtures/small", 0), "fixtures/large", "localLargeBytes", "bytes"),
    "memory-small-put": small_put("smallCount", "smallConcurrency", "smallBytes"),
    "memory-small-get": small_get("smallCount", "smallConcurrency", "smallBytes", prefix="small", fill=True),
}


# ---- the JSON-lines loop --------------------------------------------------------------------


def usage():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime, peak_rss_bytes(r)


def peak_rss_bytes(r):
    """This process's own peak RSS: VmHWM on Linux, where ru_maxrss survives exec and so also
    counts what the spawning process held (bench/peak-rss.mjs says more)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return r.ru_maxrss * (1 if sys.platform == "darwin" else 1024)  # bytes on macOS, else KiB


async def timed(ctx, run):
    cpu0, _ = usage()
    t0 = time.perf_counter()
    result = await run(ctx)
    seconds = time.perf_counter() - t0
    cpu1, peak = usage()
    return {"seconds": seconds, "cpuSeconds": cpu1 - cpu0, "peakRssBytes": peak, **result}


async def main():
    out = sys.stdout
    sys.stdout = sys.stderr  # nothing else may write to the protocol's stream
    ctx = None
    workload = None

    def reply(message):
        out.write(json.dumps(message) + "\n")
        out.flush()

    for line in sys.stdin:
        request = json.loads(line)
        cmd = request["cmd"]
        try:
            result = None
            if cmd == "open":
                job = request["job"]
                workload = WORKLOADS.get(job["workload"])
                if workload is None:
                    raise RuntimeError(f"obstore has no {job['workload']} workload here")
                # the runner SIGKILLs a Node worker that overruns; this process must not outlive it
                signal.alarm(int(job["cfg"]["timeoutSec"]) + 5)
                ctx = Ctx(job)
            elif cmd in ("prepare", "warmup"):
                if cmd in workload:
                    await workload[cmd](ctx)
            elif cmd == "run":
                result = await timed(ctx, workload["run"])
            elif cmd == "close":
                reply({"ok": True})
                return
            else:
                raise RuntimeError(f"unknown command {cmd}")
            reply({"ok": True, **({"result": result} if result is not None else {})})
        except Exception as e:  # noqa: BLE001 -- every failure goes back to Node as the row's error
            reply({"ok": False, "error": f"{type(e).__name__}: {e}"[:2000]})


if __name__ == "__main__":
    asyncio.run(main())
