# A typed user of xchan: test_typing checks it with mypy --strict.
import asyncio
import xchan
from xchan import Chan, xf

ch: Chan[int] = Chan(10, xf.map(lambda x: x + 1))
ok: bool = ch.offer(1)
v = ch.poll()
r, c = xchan.alts([ch, (Chan(), 2)], priority=True, default=None)
t = xchan.thread(lambda: 3)
m = xchan.mult(ch)
m.tap(Chan(1))
e, o = xchan.split(lambda x: bool(x), ch)
async def main() -> None:
    await ch.put_async(1)
    x = await ch.take_async()
    async for y in ch:
        print(y)
xchan.set_executor_factory(lambda name: None)
