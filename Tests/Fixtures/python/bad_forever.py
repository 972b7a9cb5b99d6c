# Never ends: a ticker that sleeps forever.
import asyncio
import os

async def ticker():
    print(f"python pid {os.getpid()}")
    n = 0
    while True:
        print(f"tick {n}")
        n += 1
        await asyncio.sleep(0.05)

asyncio.run(ticker())
