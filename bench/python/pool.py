"""
Python's multiprocessing.Pool, measured the way bench/child.ts measures a Node pool: one measurement per
fresh process, a warm-up, then the timed repetitions, every result checked. Started by bench/run.ts as
`python3 bench/python/pool.py '<CaseSpec as JSON>'`; prints `RESULT <Measurement as JSON>`.

Pools (spec["pool"]):
  python-map    W1: Pool.map(double, xs) with its default chunksize (len / (4 * workers))
  python-apply  W1: [pool.apply_async(double, (x,)) for x in xs], then every .get();
                W2: pool.apply(double, (x,)) one after another;
                W5: Pool(workers), one apply, close() and join()
The default start method of this Python on this OS (fork on Linux up to 3.13) is used, as users get it.
"""
import json
import multiprocessing as mp
import sys
import time


def double(x):
    return x * 2


def check(ok, message):
    if not ok:
        raise AssertionError(message)


def check_doubled(xs, out):
    check(len(out) == len(xs), f"got {len(out)} results for {len(xs)} tasks")
    for i, (x, y) in enumerate(zip(xs, out)):
        check(y == 2 * x, f"result[{i}] = {y}, expected {2 * x}")


def timed(f):
    t0 = time.perf_counter()
    value = f()
    return (time.perf_counter() - t0) * 1000.0, value


def apply_all(pool, xs):
    handles = [pool.apply_async(double, (x,)) for x in xs]
    return [h.get() for h in handles]


def apply_sequential(pool, xs):
    return [pool.apply(double, (x,)) for x in xs]


def measure(spec):
    workload, pool_id, workers, sizes = spec["workload"], spec["pool"], spec["workers"], spec["sizes"]
    reps = sizes["reps"][workload]
    samples = []
    if workload == "W5":
        def cycle():
            pool = mp.Pool(workers)
            out = pool.apply(double, (21,))
            check(out == 42, f"got {out}, expected 42")
            pool.close()
            pool.join()
        for r in range(reps + 1):
            ms, _ = timed(cycle)
            if r > 0:  # r = 0 is the warm-up cycle
                samples.append(ms)
        return samples
    with mp.Pool(workers) as pool:
        if workload == "W1":
            run = (lambda xs: pool.map(double, xs)) if pool_id == "python-map" else (lambda xs: apply_all(pool, xs))
            warm = list(range(sizes["w1Warmup"]))
            check_doubled(warm, run(warm))
            xs = list(range(sizes["w1Tasks"]))
            for _ in range(reps):
                ms, out = timed(lambda: run(xs))
                check_doubled(xs, out)
                samples.append(len(xs) / ms * 1000.0)  # tasks per second
        elif workload == "W2":
            warm = list(range(sizes["w2Warmup"]))
            check_doubled(warm, apply_sequential(pool, warm))
            xs = list(range(sizes["w2Tasks"]))
            for _ in range(reps):
                ms, out = timed(lambda: apply_sequential(pool, xs))
                check_doubled(xs, out)
                samples.append(ms * 1000.0 / len(xs))  # µs per task
        else:
            raise ValueError(f"no workload {workload} for {pool_id}")
    return samples


if __name__ == "__main__":
    spec = json.loads(sys.argv[1])
    try:
        result = {"status": "ok", "samples": measure(spec)}
    except AssertionError as e:
        result = {"status": "FAILED", "samples": [], "detail": str(e)}
    except Exception as e:  # noqa: BLE001 - reported as the cell's error
        result = {"status": "error", "samples": [], "detail": f"{type(e).__name__}: {e}"}
    sys.stdout.write("RESULT " + json.dumps(result) + "\n")
    sys.stdout.flush()
