"""A WebSocket client on Python's `websockets` for skyport's interop tests
(tests/e2e/interop.test.ts): dials URL (ws:// or wss://, trusting CAFILE for
wss; "-" for none), sends each MESSAGE as a text frame, prints every text
message received, one per line, until one contains UNTIL, then closes with
1000. Exits 1 if UNTIL is not seen within 10 s.

    python3 python_client.py URL CAFILE UNTIL MESSAGE...
"""
import asyncio
import ssl
import sys

import websockets

# Longest wait for the message containing UNTIL, seconds.
UNTIL_TIMEOUT = 10


async def run(url, ca_file, until, messages):
    context = None
    if url.startswith("wss://"):
        context = ssl.create_default_context(cafile=None if ca_file == "-" else ca_file)
    async with websockets.connect(url, ssl=context, open_timeout=UNTIL_TIMEOUT) as socket:
        for message in messages:
            await socket.send(message)
        async def read_until():
            async for received in socket:
                if isinstance(received, str):
                    print(received, flush=True)
                    if until in received:
                        return
        await asyncio.wait_for(read_until(), UNTIL_TIMEOUT)


def main():
    if len(sys.argv) < 4:
        print("usage: python_client.py URL CAFILE UNTIL MESSAGE...", file=sys.stderr)
        sys.exit(2)
    url, ca_file, until, *messages = sys.argv[1:]
    try:
        asyncio.run(run(url, ca_file, until, messages))
    except Exception as error:  # one line, like the other clients
        print(f"python-client: {type(error).__name__}: {error}", file=sys.stderr)
        sys.exit(1)


main()
