"""xchan from Python: threads, asyncio and the core's executors on the same
channels (`make demo-python` runs it)."""
import asyncio
import threading

import xchan
from xchan import Chan, xf


def sensor(out: Chan, n: int) -> None:
    """A plain thread producing readings (blocking puts release the GIL)."""
    for i in range(n):
        out.put({"sensor": threading.current_thread().name, "reading": i})
    out.close()


async def main() -> None:
    readings = Chan(16)
    threading.Thread(target=sensor, args=(readings, 6), name="probe-1").start()
    # Scaled on the core's COMPUTE threads, order kept.
    scaled = Chan(16)
    xchan.pipeline(2, scaled, xf.map(lambda r: {**r, "reading": r["reading"] * 10}), readings)
    async for r in scaled:                      # asyncio takes from the same core
        print("asyncio got", r)
    # alts with a timeout channel: whichever comes first.
    quiet = Chan()
    v, ch = await xchan.alts_async([quiet, xchan.timeout(50)])
    print("timeout won:", v is None and ch is not quiet)
    # A failing task: its result channel closes empty and the task error
    # hook gets the exception (the hook runs before the channel closes).
    xchan.set_task_error_hook(lambda name, e: print(f"task {name} failed: {e}"))

    def fails() -> None:
        raise ValueError("sensor offline")
    print("failed task's result:", await xchan.thread(fails).take())

asyncio.run(main())
