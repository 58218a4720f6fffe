# SPDX-License-Identifier: Apache-2.0
"""A flaky OpenAI-compatible upstream for the soak (Benchmarks/soak/soak.sh).

POST {prefix}/v1/chat/completions (any prefix, e.g. /a/v1/... and /b/v1/... for two providers)
fails a share of requests with HTTP 500 (--fail-rate, default 0.3) and answers the others, after
a random delay between --delay-min and --delay-max seconds, with "echo: <last user message>",
as one chat.completion or, with "stream": true, as chat.completion.chunk server-sent events
(role, the text in a few pieces, finish_reason, a usage chunk when stream_options.include_usage,
[DONE]). GET {prefix}/v1/models lists soak-model; GET /stats returns the counters, which are also
written to --stats on exit. Prints "upstream listening on <port>" once bound (--port 0: any).
"""
import argparse
import asyncio
import json
import random
import signal
import time

from aiohttp import web

MODEL = "soak-model"


def last_user_text(body):
    for message in reversed(body.get("messages") or []):
        if message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, str):
            return content
        if isinstance(content, list):
            return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return ""


def pieces(text, count=3):
    """The text cut into up to `count` pieces (deltas)."""
    if len(text) <= count:
        return [text] if text else []
    step = -(-len(text) // count)
    return [text[i:i + step] for i in range(0, len(text), step)]


class Upstream:
    def __init__(self, fail_rate, delay_min, delay_max):
        self.fail_rate = fail_rate
        self.delay_min = delay_min
        self.delay_max = delay_max
        self.stats = {"requests": 0, "failed_500": 0, "answered": 0, "streamed": 0, "bad_request": 0, "by_prefix": {}}

    def count(self, prefix, key):
        self.stats[key] += 1
        per = self.stats["by_prefix"].setdefault(prefix or "/", {"requests": 0, "failed_500": 0, "answered": 0})
        if key in per:
            per[key] += 1

    async def completions(self, request):
        prefix = request.match_info.get("prefix", "")
        self.count(prefix, "requests")
        try:
            body = await request.json()
        except Exception:
            self.stats["bad_request"] += 1
            return web.json_response({"error": {"message": "body is not JSON", "type": "invalid_request_error"}}, status=400)
        if random.random() < self.fail_rate:
            self.count(prefix, "failed_500")
            await asyncio.sleep(random.uniform(0, self.delay_min))
            return web.json_response(
                {"error": {"message": "soak upstream: injected failure", "type": "server_error", "param": None, "code": None}},
                status=500)
        await asyncio.sleep(random.uniform(self.delay_min, self.delay_max))
        text = "echo: " + last_user_text(body)
        model = body.get("model") or MODEL
        created = int(time.time())
        ident = "chatcmpl-soak-%d" % self.stats["requests"]
        usage = {"prompt_tokens": 10, "completion_tokens": max(1, len(text) // 4), "total_tokens": 10 + max(1, len(text) // 4)}
        if not body.get("stream"):
            self.count(prefix, "answered")
            return web.json_response({
                "id": ident, "object": "chat.completion", "created": created, "model": model,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
                "usage": usage})
        self.stats["streamed"] += 1
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
        await response.prepare(request)

        async def event(choices, **extra):
            chunk = {"id": ident, "object": "chat.completion.chunk", "created": created, "model": model, "choices": choices}
            chunk.update(extra)
            await response.write(b"data: " + json.dumps(chunk).encode() + b"\n\n")

        await event([{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}])
        for piece in pieces(text):
            await event([{"index": 0, "delta": {"content": piece}, "finish_reason": None}])
            await asyncio.sleep(0.005)
        await event([{"index": 0, "delta": {}, "finish_reason": "stop"}])
        if (body.get("stream_options") or {}).get("include_usage"):
            await event([], usage=usage)
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        self.count(prefix, "answered")
        return response

    async def models(self, request):
        return web.json_response({"object": "list", "data": [{"id": MODEL, "object": "model", "created": 0, "owned_by": "soak"}]})

    async def stats_handler(self, request):
        return web.json_response(self.stats)


async def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--fail-rate", type=float, default=0.3)
    parser.add_argument("--delay-min", type=float, default=0.01)
    parser.add_argument("--delay-max", type=float, default=0.15)
    parser.add_argument("--stats", help="file the counters are written to on exit")
    args = parser.parse_args()
    upstream = Upstream(args.fail_rate, args.delay_min, args.delay_max)
    app = web.Application()
    app.router.add_post("/v1/chat/completions", upstream.completions)
    app.router.add_post("/{prefix}/v1/chat/completions", upstream.completions)
    app.router.add_get("/v1/models", upstream.models)
    app.router.add_get("/{prefix}/v1/models", upstream.models)
    app.router.add_get("/stats", upstream.stats_handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", args.port)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    print("upstream listening on %d" % port, flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    if args.stats:
        with open(args.stats, "w") as f:
            json.dump(upstream.stats, f, indent=1)
    await runner.cleanup()


if __name__ == "__main__":
    asyncio.run(main())
