# A task cancelled through call_soon(task.cancel) and another through call_soon_threadsafe:
# the module must leave such handles alone (they are not the task's step).
import asyncio, threading
async def w():
    try:
        await asyncio.sleep(10)
    except asyncio.CancelledError:
        print("cancelled")
        raise
async def main():
    loop = asyncio.get_running_loop()
    t = asyncio.create_task(w())
    await asyncio.sleep(0)
    print("w 0")
    loop.call_soon(t.cancel)
    t2 = asyncio.create_task(w())
    await asyncio.sleep(0)
    threading.Thread(target=lambda: loop.call_soon_threadsafe(t2.cancel)).start()
    for task in (t, t2):
        try:
            await task
        except asyncio.CancelledError:
            pass
    print("done")
asyncio.run(main())
