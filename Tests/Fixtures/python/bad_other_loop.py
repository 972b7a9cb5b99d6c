# Runs on a loop that is not asyncio's standard one (as uvloop's is not): it registers itself as
# the running loop the way other loops do.
import asyncio
import asyncio.events

class OtherLoop(asyncio.AbstractEventLoop):
    def run_until_complete(self, coroutine):
        asyncio.events._set_running_loop(self)
        try:
            coroutine.send(None)
        except StopIteration as stop:
            return stop.value
        finally:
            asyncio.events._set_running_loop(None)

async def main():
    print("on another loop")

OtherLoop().run_until_complete(main())
