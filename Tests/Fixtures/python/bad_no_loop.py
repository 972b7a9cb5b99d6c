# Never starts an event loop.
print("no asyncio here")
