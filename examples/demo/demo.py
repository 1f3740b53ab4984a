"""The Python part of `make demo` (run by examples/demo/run.sh).

C threads produce sensor readings into a channel Python made; asyncio
consumes them through a mult, in two go tasks, while an alts with a timeout
keeps watch on the C producer.  Prints what happened and the throughput.

    XCHAN_DEMO_LIB=build/examples/demo/libxchan_demo_sensors.so python demo.py
"""
import asyncio
import os
import sys
import time

import xchan
from xchan import Chan

LIB = os.environ.get("XCHAN_DEMO_LIB", "build/examples/demo/libxchan_demo_sensors.so")
SENSORS = 4
PER_SENSOR = int(os.environ.get("XCHAN_DEMO_PER_SENSOR", "30000"))


async def summarise(readings):
    """A go task: what the readings say, by interop type."""
    temps, counts, statuses = [], 0, 0
    async for v in readings:
        if isinstance(v, float):
            temps.append(v)
        elif isinstance(v, int):
            counts += 1
        else:
            statuses += 1
    return temps, counts, statuses


async def watch(readings):
    """A go task: the 'warm' status lines, as a second consumer of the mult."""
    warm, first = 0, None
    async for v in readings:
        if isinstance(v, str) and v.endswith("warm"):
            warm += 1
            first = first or v
    return warm, first


async def main():
    readings = Chan(1024)
    fan = xchan.mult(readings)
    to_stats, to_watch = fan.tap(Chan(1024)), fan.tap(Chan(1024))

    t0 = time.perf_counter()
    producer = xchan.native.io_thread(LIB, "run_sensors", "i(cii)", readings, SENSORS, PER_SENSOR)
    stats = xchan.go(summarise(to_stats))
    alarms = xchan.go(watch(to_watch))

    # Keep watch on the C producer: whichever is ready first wins.
    ticks = 0
    while True:
        total, ch = await xchan.alts_async([producer, xchan.timeout(50)])
        if ch is producer:
            break
        ticks += 1
    (temps, counts, statuses), (warm, first) = await stats.take(), await alarms.take()
    seconds = time.perf_counter() - t0

    print(f"  C    run_sensors: {SENSORS} pthreads put {total:,} readings into a Chan(1024),"
          " started with xchan.native.io_thread")
    print("  mult fans the channel out to two go tasks (asyncio coroutines):")
    print(f"         stats   {len(temps):,} temperatures (mean {sum(temps) / len(temps):.1f} °C,"
          f" max {max(temps):.1f}), {counts:,} counts, {statuses:,} status lines")
    print(f"         watch   {warm:,} \"warm\" statuses, the first: {first!r}")
    print(f"  alts   [producer, timeout(50 ms)]: the timeout won {ticks}×, then the producer"
          f" answered {total:,}")
    assert total == SENSORS * PER_SENSOR == len(temps) + counts + statuses
    print(f"  rate   {total:,} readings in {seconds:.2f} s = {total / seconds:,.0f} msg/s"
          " (C threads → mult → 2 asyncio consumers)")
    print(f"@@result {total} {seconds:.6f}")


if __name__ == "__main__":
    print(f"  Python {sys.version.split()[0]}, asyncio, xchan {xchan.__version__}")
    asyncio.run(main())
