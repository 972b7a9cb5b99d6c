"""The programs of LoopbackSettlingTests on CPython: python3 loopback_settling.py CASE.

A ticker task prints a line each pass beside the case's main body; where the other lines fall
among the ticks says on which pass each step ran. CASE: connect, line, half-close, close.
"""
import asyncio
import sys


async def connect():
    async def handle(reader, writer):
        print("handler starts")
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    _, writer = await asyncio.open_connection("127.0.0.1", port)
    print("client connected")
    writer.close()
    await writer.wait_closed()
    server.close()


async def line():
    async def handle(reader, writer):
        got = await reader.readline()
        print("server read", got.decode().strip())
        writer.write(b"pong\n")
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"ping\n")
    answer = await reader.readline()
    print("client read", answer.decode().strip())
    writer.close()
    server.close()


async def half_close():
    async def handle(reader, writer):
        data = await reader.read()
        print(f"server read {data.decode()} and the end")
        writer.write(b"ok")
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"hi")
    await asyncio.sleep(0)
    writer.write_eof()
    answer = await reader.read()
    print(f"client read {answer.decode()} and the end")
    writer.close()
    server.close()


async def close():
    async def handle(reader, writer):
        data = await reader.read()
        print(f"server read {data.decode()} and the end")
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    _, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"bye")
    await asyncio.sleep(0)
    writer.close()
    await writer.wait_closed()
    print("client closed")
    server.close()


async def main(body):
    async def ticker():
        for tick in range(16):
            print(f"tick {tick}")
            await asyncio.sleep(0)

    task = asyncio.create_task(ticker())
    await body()
    await task


cases = {"connect": connect, "line": line, "half-close": half_close, "close": close}
asyncio.run(main(cases[sys.argv[1]]))
