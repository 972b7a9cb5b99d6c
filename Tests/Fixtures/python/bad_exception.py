# A task fails; main gathers it, so the exception escapes asyncio.run.
import asyncio

async def worker():
    await asyncio.sleep(0.01)
    return 1 / 0

async def main():
    print("starting")
    await asyncio.gather(worker())

asyncio.run(main())
