# Prints a lot: 20,000 lines from one task.
import asyncio

async def main():
    for i in range(20000):
        print(f"line {i}")
        if i % 1000 == 0:
            await asyncio.sleep(0)

asyncio.run(main())
