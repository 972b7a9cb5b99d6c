# Reads its standard input before the loop starts.
import asyncio
import sys

line = sys.stdin.readline().strip()

async def main():
    print(f"read: {line or '(nothing)'}")

asyncio.run(main())
