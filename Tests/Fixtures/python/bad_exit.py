# Ends with its own exit status.
import asyncio
import sys

async def main():
    print("leaving with 3")

asyncio.run(main())
sys.exit(3)
