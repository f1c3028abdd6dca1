# A loopback TCP proxy adding a Wi-Fi-like delay to every chunk, order kept:
# each chunk is held 5-150 ms (uniform) after it arrives, but never sent
# before the chunk ahead of it on the same direction.
import asyncio, random, sys, time
LISTEN, TARGET = int(sys.argv[1]), int(sys.argv[2])
async def pipe(reader, writer):
    q = asyncio.Queue()
    async def send():
        while True:
            due, data = await q.get()
            if data is None:
                writer.close(); return
            d = due - time.monotonic()
            if d > 0: await asyncio.sleep(d)
            writer.write(data); await writer.drain()
    t = asyncio.create_task(send())
    while True:
        data = await reader.read(65536)
        if not data:
            await q.put((0, None)); break
        await q.put((time.monotonic() + random.uniform(0.005, 0.150), data))
    await t
async def handle(cr, cw):
    sr, sw = await asyncio.open_connection('127.0.0.1', TARGET)
    await asyncio.gather(pipe(cr, sw), pipe(sr, cw), return_exceptions=True)
async def main():
    srv = await asyncio.start_server(handle, '127.0.0.1', LISTEN)
    async with srv: await srv.serve_forever()
asyncio.run(main())
