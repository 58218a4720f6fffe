# SPDX-License-Identifier: Apache-2.0
"""The soak's load driver (started by Benchmarks/soak/soak.sh; see Benchmarks/README.md).

Plays every client of a running hub at once for --seconds and accounts for every message:

- OneBot 11 bots on reverse WebSocket (Universal role): private and group (@-mention) messages,
  a heartbeat every 5 s, every action answered at once; --reconnects planned disconnects spread
  over the run (alternately a close handshake and a dropped TCP connection; every fifth one stays
  away for twice onebot.reply_wait plus 2 s, so the hub's replies go to its outbox);
- OneBot HTTP POST events (X-Signature), for the WebSocket bots' ids (replied over their
  WebSocket, or after they come back) and for one bot without WebSocket whose replies come over
  its forward HTTP API, which this driver serves;
- web chat clients on /ws/chat/{id} (history first, then delta/done/error frames), reconnecting
  now and then between messages;
- the OpenAI-compatible API through the official openai package, streamed and not.

Each message carries a unique token; the upstream stand-in answers "echo: <message>", so an
answer is matched exactly (QQ group replies also quote the message id; a QQ private user and a
web client have one message in flight at a time, so an apology or a notice, which carries no
token, is matched too). Outcomes: answer, failure apology/notice, busy notice, refused (an
explicit refusal), not accepted (the transport failed before the hub took the message), and no
reply. The hub's RSS, file descriptors, threads, CPU and the gauges it exposes are sampled
before, during and after the load into samples.csv; summary.md and summary.json get the tables.
Exits 1 when a message has no reply, an answer is wrong, or the hub died.
"""
import argparse
import asyncio
import collections
import csv
import datetime
import hashlib
import hmac
import json
import os
import random
import re
import sqlite3
import sys
import time

import aiohttp
import openai
from aiohttp import web
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed

MODEL = "soak-model"
BOT_BASE = 3_900_000_001
HTTP_API_BOT = 3_900_000_099


def now():
    return time.monotonic()


def utc():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def log(*parts):
    print("soak %s" % time.strftime("%H:%M:%S"), *parts, flush=True)


def classify(text, token):
    """What a reply's text is: the answer to the message with `token`, or a notice."""
    if token in text:
        return "answer"
    if "echo:" in text:
        return "wrong answer"
    lowered = text.lower()
    if lowered.startswith("sorry") or "couldn't get an answer" in lowered or "went wrong" in lowered:
        return "apology"
    if "busy" in lowered:
        return "busy"
    return "refused"


# MARK: - Accounting


class Message:
    __slots__ = ("door", "key", "token", "sent_at", "meta", "outcome", "detail")

    def __init__(self, door, key, token, meta):
        self.door = door
        self.key = key
        self.token = token
        self.sent_at = now()
        self.meta = meta
        self.outcome = None
        self.detail = None


class Ledger:
    OUTCOMES = ["answer", "apology", "busy", "refused", "not accepted", "wrong answer"]

    def __init__(self):
        self.sent = collections.Counter()
        self.outcomes = collections.defaultdict(collections.Counter)
        self.refusals = collections.defaultdict(collections.Counter)
        self.outstanding = {}
        self.closed = {}
        self.latency = collections.defaultdict(list)
        self.duplicates = collections.Counter()
        self.unmatched = collections.Counter()
        self.after_reconnect = collections.Counter()
        self.examples = collections.defaultdict(list)
        self.by_token = {}
        self.serial = 0

    def token(self, door):
        self.serial += 1
        return "soak-%s-%d-%04x" % (door.replace(" ", "").replace("→", "-"), self.serial, random.getrandbits(16))

    def open(self, door, key, token, **meta):
        message = Message(door, key, token, meta)
        self.sent[door] += 1
        self.by_token[token] = key
        self.outstanding[key] = message
        return message

    def close(self, key, outcome, detail=None, late=False):
        message = self.outstanding.pop(key, None)
        if message is None:
            door = self.closed[key].door if key in self.closed else (key[0] if isinstance(key, tuple) else "?")
            if key in self.closed:
                self.duplicates[door] += 1
            else:
                self.unmatched[door] += 1
            return None
        message.outcome = outcome
        message.detail = detail
        self.closed[key] = message
        self.outcomes[message.door][outcome] += 1
        if outcome == "refused" and detail:
            self.refusals[message.door][detail] += 1
        if outcome in ("wrong answer", "refused", "not accepted") and len(self.examples[outcome]) < 10:
            self.examples[outcome].append({"door": message.door, "token": message.token, "detail": detail})
        if outcome != "not accepted":
            self.latency[message.door].append(now() - message.sent_at)
        if late:
            self.after_reconnect[message.door] += 1
        return message

    @property
    def replies(self):
        return sum(sum(c.values()) for c in self.outcomes.values())


LEDGER = Ledger()
TOKEN = re.compile(r"soak-[a-z-]+-[0-9]+-[0-9a-f]{4}")

# MARK: - OneBot


def text_segment(text):
    return {"type": "text", "data": {"text": text}}


class QQUser:
    __slots__ = ("self_id", "user_id", "group_id", "pending")

    def __init__(self, self_id, user_id, group_id=None):
        self.self_id = self_id
        self.user_id = user_id
        self.group_id = group_id
        self.pending = None


class QQ:
    """The OneBot side: message ids, events, and matching the hub's send_msg actions."""

    def __init__(self):
        self.message_id = 0
        self.private = {}  # (self_id, user_id) -> key of the message in flight
        self.actions = collections.Counter()

    def event(self, user, token):
        self.message_id += 1
        text = "%s says hello" % token
        base = {
            "time": int(time.time()), "self_id": user.self_id, "post_type": "message", "message_id": self.message_id,
            "user_id": user.user_id, "font": 0,
        }
        if user.group_id is None:
            base.update({
                "message_type": "private", "sub_type": "friend", "message": [text_segment(text)], "raw_message": text,
                "sender": {"user_id": user.user_id, "nickname": "u%d" % user.user_id, "sex": "unknown", "age": 0},
            })
            key = ("qq", user.self_id, "private", user.user_id, self.message_id)
        else:
            base.update({
                "message_type": "group", "sub_type": "normal", "group_id": user.group_id,
                "message": [{"type": "at", "data": {"qq": str(user.self_id)}}, text_segment(" " + text)],
                "raw_message": "[CQ:at,qq=%d] %s" % (user.self_id, text),
                "sender": {"user_id": user.user_id, "nickname": "u%d" % user.user_id, "card": "", "role": "member"},
            })
            key = ("qq", user.self_id, "group", self.message_id)
        return base, key

    def register(self, door, user, key, token, **meta):
        user.pending = key
        if user.group_id is None:
            self.private[(user.self_id, user.user_id)] = key
        LEDGER.open(door, key, token, user=user, **meta)

    def reply(self, self_id, params, via, generation=None):
        """A send_msg (or send_private_msg / send_group_msg) from the hub for bot `self_id`."""
        message = params.get("message")
        if isinstance(message, str):
            text, quote = message, None
        else:
            text = "".join(seg.get("data", {}).get("text", "") for seg in message or [] if seg.get("type") == "text")
            quote = next((seg.get("data", {}).get("id") for seg in message or [] if seg.get("type") == "reply"), None)
        message_type = params.get("message_type") or ("group" if "group_id" in params else "private")
        token = TOKEN.search(text)
        if token is not None:
            # An answer names its message exactly (a reply sent twice is caught here too).
            key = LEDGER.by_token.get(token.group(0))
            if key is None:
                LEDGER.unmatched["qq unknown token (%s)" % via] += 1
                return
        elif message_type == "group":
            if quote is None:
                LEDGER.unmatched["qq group without quote (%s)" % via] += 1
                return
            key = ("qq", self_id, "group", int(quote))
        else:
            # An apology or a notice: the user's one message in flight.
            key = self.private.get((self_id, int(params.get("user_id"))))
            if key is None:
                LEDGER.unmatched["qq private notice with nothing in flight (%s)" % via] += 1
                return
        pending = LEDGER.outstanding.get(key)
        if pending is None:
            LEDGER.close(key, "duplicate")
            return
        late = generation is not None and pending.meta.get("generation") is not None and generation != pending.meta["generation"]
        if pending.meta.get("sent_offline"):
            late = True
        LEDGER.close(key, classify(text, pending.token), detail=text[:120], late=late)
        user = pending.meta["user"]
        user.pending = None
        if user.group_id is None:
            self.private.pop((self_id, user.user_id), None)


QQ_STATE = QQ()


class Bot:
    def __init__(self, index, args):
        self.self_id = BOT_BASE + index
        self.args = args
        self.ws = None
        self.generation = 0
        self.online = False
        self.quiet = False
        self.planned = None
        self.back_now = asyncio.Event()
        self.connects = 0
        self.reconnects_done = 0
        self.planned_disconnects = collections.Counter()
        self.unplanned = []
        self.connect_failures = 0
        self.users = [QQUser(self.self_id, 1_000_000_000 + index * 10_000 + u) for u in range(args.private_users)]
        for g in range(args.groups):
            group_id = 700_000_000 + index * 100 + g
            self.users += [QQUser(self.self_id, 1_100_000_000 + index * 10_000 + g * 100 + u, group_id) for u in range(args.group_users)]
        self.http_users = [QQUser(self.self_id, 1_200_000_000 + index * 10_000 + u) for u in range(args.http_users)]

    @property
    def sendable(self):
        return self.online and not self.quiet

    def meta(self, kind, **extra):
        event = {"time": int(time.time()), "self_id": self.self_id, "post_type": "meta_event", "meta_event_type": kind}
        event.update(extra)
        return json.dumps(event)

    async def run(self, stop):
        url = self.args.ws_url
        headers = {"Authorization": "Bearer " + self.args.token, "X-Self-ID": str(self.self_id), "X-Client-Role": "Universal"}
        while not stop.is_set():
            try:
                ws = await ws_connect(url, additional_headers=headers, ping_interval=None, max_size=None, compression=None,
                                      open_timeout=10, close_timeout=5, proxy=None)
            except Exception as error:
                self.connect_failures += 1
                log("bot %d: connect failed: %r" % (self.self_id, error))
                await asyncio.sleep(1)
                continue
            self.generation += 1
            self.connects += 1
            if self.planned is not None:
                self.reconnects_done += 1
                self.planned = None
            self.ws = ws
            self.quiet = False
            self.online = True
            heartbeat = asyncio.create_task(self.heartbeat(ws))
            close_info = None
            try:
                await ws.send(self.meta("lifecycle", sub_type="connect"))
                async for raw in ws:
                    await self.frame(ws, raw)
            except ConnectionClosed as closed:
                close_info = closed
            except Exception as error:
                close_info = error
            finally:
                heartbeat.cancel()
                self.online = False
                self.ws = None
            if stop.is_set():
                break
            if self.planned is not None:
                mode, offline = self.planned
                try:
                    await asyncio.wait_for(self.back_now.wait(), timeout=offline)
                except asyncio.TimeoutError:
                    pass
                continue
            code = getattr(getattr(close_info, "rcvd", None), "code", None)
            reason = getattr(getattr(close_info, "rcvd", None), "reason", None)
            self.unplanned.append({"at": utc(), "code": code, "reason": reason, "error": repr(close_info)[:200]})
            log("bot %d: connection ended unplanned: %r" % (self.self_id, close_info))
            await asyncio.sleep(1)

    async def heartbeat(self, ws):
        try:
            while True:
                await asyncio.sleep(5)
                await ws.send(self.meta("heartbeat", status={"online": True, "good": True}, interval=5000))
        except (ConnectionClosed, asyncio.CancelledError):
            pass

    async def frame(self, ws, raw):
        try:
            frame = json.loads(raw)
        except ValueError:
            LEDGER.unmatched["qq bad frame"] += 1
            return
        action = frame.get("action")
        if action is None:
            return
        QQ_STATE.actions[action] += 1
        params = frame.get("params") or {}
        data = None
        if action in ("send_msg", "send_private_msg", "send_group_msg"):
            QQ_STATE.reply(self.self_id, params, "ws", generation=self.generation)
            data = {"message_id": random.randint(1, 2**31 - 1)}
        elif action == "get_login_info":
            data = {"user_id": self.self_id, "nickname": "soak-bot"}
        response = {"status": "ok", "retcode": 0, "data": data, "echo": frame.get("echo")}
        try:
            await ws.send(json.dumps(response))
        except ConnectionClosed:
            pass

    async def send_event(self, user):
        token = LEDGER.token("qq ws")
        event, key = QQ_STATE.event(user, token)
        QQ_STATE.register("qq ws", user, key, token, generation=self.generation)
        try:
            await self.ws.send(json.dumps(event))
        except Exception as error:
            LEDGER.close(key, "not accepted", detail=repr(error)[:120])
            user.pending = None
            QQ_STATE.private.pop((user.self_id, user.user_id), None)

    async def disconnect(self, mode, offline):
        ws = self.ws
        if ws is None:
            return False
        self.planned = (mode, offline)
        self.back_now.clear()
        self.planned_disconnects[mode] += 1
        # No new events from here: one sent into a closing socket is not the hub's to answer.
        self.quiet = True
        if mode == "drop":
            # Nothing left half-sent either: the hub must have read every event before the socket
            # dies (a reset discards what the kernel holds unread, which is no fault of the hub's).
            await asyncio.sleep(0.1)
            ws.transport.abort()
        else:
            try:
                await ws.close(1000, "soak reconnect")
            except Exception:
                pass
        return True


# MARK: - Web chat


class WebClient:
    def __init__(self, index, args):
        self.cid = "soak-web-%d" % index
        self.args = args
        self.ws = None
        self.online = False
        self.quiet = False
        self.pending = None
        self.buffers = {}
        self.connects = 0
        self.history_lengths = []
        self.bad_first_frames = 0
        self.unplanned = []
        self.leaving = False

    @property
    def sendable(self):
        return self.online and not self.quiet and self.pending is None

    async def run(self, stop):
        url = "%s/ws/chat/%s" % (self.args.ws_base, self.cid)
        while not stop.is_set():
            try:
                ws = await ws_connect(url, ping_interval=None, max_size=None, compression=None, open_timeout=10, close_timeout=5, proxy=None)
                first = json.loads(await asyncio.wait_for(ws.recv(), timeout=10))
            except Exception as error:
                log("web %s: connect failed: %r" % (self.cid, error))
                await asyncio.sleep(1)
                continue
            self.connects += 1
            if first.get("type") == "history":
                self.history_lengths.append(len(first.get("messages") or []))
            else:
                self.bad_first_frames += 1
            self.ws = ws
            self.online = True
            self.quiet = False
            close_info = None
            try:
                async for raw in ws:
                    self.frame(json.loads(raw))
            except ConnectionClosed as closed:
                close_info = closed
            except Exception as error:
                close_info = error
            self.online = False
            self.ws = None
            if stop.is_set():
                break
            if self.leaving:
                self.leaving = False
                continue
            self.unplanned.append({"at": utc(), "error": repr(close_info)[:200]})
            log("web %s: connection ended unplanned: %r" % (self.cid, close_info))
            await asyncio.sleep(1)

    def frame(self, frame):
        kind = frame.get("type")
        ident = frame.get("id")
        if kind == "delta":
            self.buffers[ident] = self.buffers.get(ident, "") + (frame.get("text") or "")
            return
        if kind not in ("done", "error"):
            LEDGER.unmatched["web %s frame" % kind] += 1
            return
        key = ("web", self.cid, ident)
        pending = LEDGER.outstanding.get(key)
        text = self.buffers.pop(ident, "")
        if pending is None:
            LEDGER.close(key, "duplicate")
            return
        if kind == "done":
            LEDGER.close(key, classify(text, pending.token), detail=text[:120])
        else:
            message = frame.get("message") or ""
            outcome = classify(message, pending.token)
            LEDGER.close(key, outcome, detail=message[:120])
        if self.pending == key:
            self.pending = None

    async def send(self, serial):
        token = LEDGER.token("web")
        ident = "m%d" % serial
        key = ("web", self.cid, ident)
        self.pending = key
        LEDGER.open("web", key, token)
        try:
            await self.ws.send(json.dumps({"type": "message", "id": ident, "text": "%s says hello" % token}))
        except Exception as error:
            LEDGER.close(key, "not accepted", detail=repr(error)[:120])
            self.pending = None

    async def reconnect(self):
        """Leaves between messages and comes back (the history frame must come back too)."""
        self.quiet = True
        deadline = now() + 60
        while self.pending is not None and now() < deadline:
            await asyncio.sleep(0.1)
        ws = self.ws
        if ws is None:
            self.quiet = False
            return
        self.leaving = True
        try:
            await ws.close(1000, "soak reconnect")
        except Exception:
            pass


# MARK: - Load


async def paced(rate, stop, step):
    """Calls `step` `rate` times a second until `stop`."""
    if rate <= 0:
        return
    interval = 1.0 / rate
    loop = asyncio.get_running_loop()
    due = loop.time()
    while not stop.is_set():
        await step()
        due += interval
        delay = due - loop.time()
        if delay > 0:
            try:
                await asyncio.wait_for(stop.wait(), timeout=delay)
            except asyncio.TimeoutError:
                pass
        elif delay < -5:
            due = loop.time()


class Driver:
    def __init__(self, args):
        self.args = args
        self.bots = [Bot(i, args) for i in range(args.bots)]
        self.http_api_users = [QQUser(HTTP_API_BOT, 1_300_000_000 + u) for u in range(args.http_users * 2)]
        self.http_api_users += [QQUser(HTTP_API_BOT, 1_310_000_000 + u, 710_000_000) for u in range(args.group_users)]
        self.web = [WebClient(i, args) for i in range(args.web_clients)]
        self.stop_load = asyncio.Event()
        self.stop_all = asyncio.Event()
        self.skipped = collections.Counter()
        self.samples = []
        self.transitions = []
        self.web_serial = 0
        self.api_serial = 0
        self.reconnect_log = []
        self.load_started = None
        self.load_ended = None
        self.hub_died = False
        self.tasks = []
        self.http = None
        self.api = None
        self.http_api_runner = None
        self.post_errors = collections.Counter()
        self.final_metrics = {}
        self.final_routes = []
        self.final_stats = None
        self.upstream_stats = None
        self.inbox_states = {}
        self.drain_seconds = 0.0
        self.upstream_cpu = None
        self.driver_cpu = None

    # Hub probes

    def proc(self):
        pid = self.args.hub_pid
        result = {}
        try:
            with open("/proc/%d/status" % pid) as f:
                for line in f:
                    name, _, value = line.partition(":")
                    if name in ("VmRSS", "VmHWM", "Threads"):
                        result[name] = int(value.split()[0])
            result["fds"] = len(os.listdir("/proc/%d/fd" % pid))
            with open("/proc/%d/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            ticks = os.sysconf("SC_CLK_TCK")
            result["cpu_s"] = (int(fields[11]) + int(fields[12])) / ticks
        except (FileNotFoundError, ProcessLookupError):
            self.hub_died = True
        return result

    @staticmethod
    def cpu_of(pid):
        try:
            with open("/proc/%d/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError):
            return None

    def fd_kinds(self):
        """The hub's descriptors by kind: its clients' connections, its own to the upstream, Redis
        and the forward HTTP API, the listener, SQLite files, epoll/eventfd, pipes, others."""
        pid = self.args.hub_pid
        sockets = {}
        for table in ("tcp", "tcp6"):
            try:
                with open("/proc/%d/net/%s" % (pid, table)) as f:
                    next(f)
                    for line in f:
                        fields = line.split()
                        local, remote, state, inode = fields[1], fields[2], fields[3], fields[9]
                        sockets[inode] = (int(local.rsplit(":", 1)[1], 16), int(remote.rsplit(":", 1)[1], 16), state)
            except OSError:
                pass
        kinds = collections.Counter()
        try:
            names = os.listdir("/proc/%d/fd" % pid)
        except OSError:
            return ""
        for fd in names:
            try:
                target = os.readlink("/proc/%d/fd/%s" % (pid, fd))
            except OSError:
                continue
            if target.startswith("socket:["):
                entry = sockets.get(target[8:-1])
                if entry is None:
                    kinds["other-socket"] += 1
                    continue
                local, remote, state = entry
                if state == "0A":
                    kinds["listen"] += 1
                elif local == self.args.hub_port:
                    kinds["clients"] += 1
                elif remote == self.args.upstream_port:
                    kinds["upstream"] += 1
                elif remote == self.args.redis_port:
                    kinds["redis"] += 1
                elif remote == self.args.http_api_port:
                    kinds["http-api"] += 1
                else:
                    kinds["other-tcp"] += 1
            elif "sqlite" in target:
                kinds["sqlite"] += 1
            elif target.startswith("anon_inode:"):
                kinds["epoll/eventfd"] += 1
            elif target.startswith("pipe:"):
                kinds["pipe"] += 1
            else:
                kinds["other"] += 1
        order = ["clients", "upstream", "redis", "http-api", "listen", "other-tcp", "other-socket", "sqlite", "epoll/eventfd", "pipe", "other"]
        return " ".join("%s=%d" % (k, kinds[k]) for k in order if kinds[k])

    async def metrics(self):
        try:
            async with self.probe.get(self.args.hub_url + "/metrics", timeout=aiohttp.ClientTimeout(total=5)) as r:
                text = await r.text()
        except Exception:
            return {}
        values = {}
        for line in text.splitlines():
            if not line or line.startswith("#"):
                continue
            name, _, value = line.rpartition(" ")
            try:
                values[name] = float(value)
            except ValueError:
                pass
        return values

    async def providers(self):
        try:
            async with self.probe.get(self.args.hub_url + "/admin/providers", headers={"Authorization": "Bearer " + self.args.admin_key},
                                     timeout=aiohttp.ClientTimeout(total=5)) as r:
                return (await r.json()).get("routes", [])
        except Exception:
            return []

    def database(self):
        try:
            connection = sqlite3.connect(self.args.db, timeout=2)
            try:
                inbox_open = connection.execute("SELECT count(*) FROM inbox WHERE state IN ('received', 'answering', 'replying')").fetchone()[0]
                outbox = connection.execute("SELECT count(*) FROM outbox").fetchone()[0]
                inbox_states = dict(connection.execute("SELECT state || '/' || coalesce(outcome, '-'), count(*) FROM inbox GROUP BY 1").fetchall())
            finally:
                connection.close()
            return inbox_open, outbox, inbox_states
        except sqlite3.Error as error:
            log("sqlite read failed: %r" % error)
            return None, None, {}

    @staticmethod
    def metric(values, name, **labels):
        total = 0.0
        found = False
        for key, value in values.items():
            if not (key == name or key.startswith(name + "{")):
                continue
            if all('%s="%s"' % item in key for item in labels.items()):
                total += value
                found = True
        return total if found else None

    async def sample(self, phase):
        proc = self.proc()
        fd_kinds = self.fd_kinds()
        values = await self.metrics()
        routes = await self.providers()
        inbox_open, outbox, _ = self.database()
        elapsed = now() - self.load_started if self.load_started else 0.0
        row = {
            "time_utc": utc(), "t_s": round(elapsed, 1), "phase": phase,
            "rss_mib": round(proc.get("VmRSS", 0) / 1024, 1), "hwm_mib": round(proc.get("VmHWM", 0) / 1024, 1),
            "fds": proc.get("fds"), "threads": proc.get("Threads"), "cpu_s": round(proc.get("cpu_s", 0), 1),
            "bots": self.metric(values, "hub_connected_bots"), "web_clients": self.metric(values, "hub_connected_clients", door="web"),
            "redis_up": self.metric(values, "redis_up"),
            "llm_in_flight": sum(r.get("in_flight", 0) for r in routes), "breakers_open": sum(1 for r in routes if r.get("breaker") == "open"),
            "inbox_open": inbox_open, "outbox": outbox,
            "sent": sum(LEDGER.sent.values()), "replies": LEDGER.replies, "in_flight": len(LEDGER.outstanding),
            "fd_kinds": fd_kinds,
        }
        for key in ("bots", "web_clients", "redis_up"):
            if row[key] is not None:
                row[key] = int(row[key])
        self.samples.append(row)
        log("sample %-9s t=%6.0fs rss=%.1f MiB fds=%s threads=%s bots=%s web=%s redis_up=%s llm_in_flight=%s inbox_open=%s outbox=%s sent=%d replies=%d in_flight=%d" % (
            phase, row["t_s"], row["rss_mib"], row["fds"], row["threads"], row["bots"], row["web_clients"], row["redis_up"],
            row["llm_in_flight"], row["inbox_open"], row["outbox"], row["sent"], row["replies"], row["in_flight"]))
        return row

    async def sampler(self):
        while not self.stop_all.is_set():
            try:
                await asyncio.wait_for(self.stop_all.wait(), timeout=self.args.sample_seconds)
                return
            except asyncio.TimeoutError:
                pass
            await self.sample("load" if not self.stop_load.is_set() else "drain")
            if self.hub_died:
                log("the hub process is gone")
                self.stop_load.set()
                self.stop_all.set()

    async def watcher(self):
        """Notes every change of redis_up and of the connected-bot count (every second)."""
        last = {}
        while not self.stop_all.is_set():
            values = await self.metrics()
            for name, value in (("redis_up", self.metric(values, "redis_up")), ("bots", self.metric(values, "hub_connected_bots"))):
                if value is not None and last.get(name) != value:
                    if name in last:
                        self.transitions.append({"at": utc(), "t_s": round(now() - (self.load_started or now()), 1), name: int(value)})
                    last[name] = value
            try:
                await asyncio.wait_for(self.stop_all.wait(), timeout=1)
            except asyncio.TimeoutError:
                pass

    # Doors

    async def ws_step(self):
        users = [u for bot in self.bots if bot.sendable for u in bot.users if u.pending is None]
        if not users:
            self.skipped["qq ws"] += 1
            return
        user = random.choice(users)
        await self.bots[user.self_id - BOT_BASE].send_event(user)

    async def post(self, door, user, bot):
        token = LEDGER.token(door)
        event, key = QQ_STATE.event(user, token)
        if bot is None:
            QQ_STATE.register(door, user, key, token)
        else:
            QQ_STATE.register(door, user, key, token, sent_offline=not bot.online, generation=bot.generation)
        body = json.dumps(event).encode()
        signature = hmac.new(self.args.secret.encode(), body, hashlib.sha1).hexdigest()
        headers = {"Content-Type": "application/json", "X-Self-ID": str(user.self_id), "X-Signature": "sha1=" + signature}
        detail = None
        try:
            async with self.http.post(self.args.hub_url + "/onebot/v11/http", data=body, headers=headers,
                                      timeout=aiohttp.ClientTimeout(total=30)) as response:
                await response.read()
                status = response.status
        except Exception as error:
            self.post_errors[type(error).__name__] += 1
            status = None
            detail = repr(error)[:120]
        if status == 204:
            return
        LEDGER.close(key, "not accepted" if status is None else "refused", detail=detail if status is None else "HTTP %d" % status)
        user.pending = None
        QQ_STATE.private.pop((user.self_id, user.user_id), None)

    async def http_step(self):
        users = [(u, bot) for bot in self.bots for u in bot.http_users if u.pending is None]
        if not users:
            self.skipped["qq http→ws"] += 1
            return
        user, bot = random.choice(users)
        self.spawn(self.post("qq http→ws", user, bot))

    async def http_api_step(self):
        users = [u for u in self.http_api_users if u.pending is None]
        if not users:
            self.skipped["qq http→http-api"] += 1
            return
        self.spawn(self.post("qq http→http-api", random.choice(users), None))

    async def web_step(self):
        clients = [c for c in self.web if c.sendable]
        if not clients:
            self.skipped["web"] += 1
            return
        self.web_serial += 1
        await random.choice(clients).send(self.web_serial)

    async def api_call(self, stream):
        door = "openai stream" if stream else "openai"
        self.api_serial += 1
        token = LEDGER.token(door)
        key = ("api", self.api_serial)
        LEDGER.open(door, key, token)
        messages = [{"role": "system", "content": "You are a soak test."}, {"role": "user", "content": "%s says hello" % token}]
        try:
            if stream:
                chunks = await self.api.chat.completions.create(model=MODEL, messages=messages, stream=True, stream_options={"include_usage": True})
                text = ""
                async for chunk in chunks:
                    for choice in chunk.choices:
                        text += choice.delta.content or ""
            else:
                completion = await self.api.chat.completions.create(model=MODEL, messages=messages)
                text = completion.choices[0].message.content or ""
            LEDGER.close(key, classify(text, token), detail=text[:120])
        except openai.APIStatusError as error:
            # 502: every route failed (the API's failure notice); 429: busy or no route free now.
            outcome = {502: "apology", 504: "apology", 429: "busy"}.get(error.status_code, "refused")
            LEDGER.close(key, outcome, detail="HTTP %d" % error.status_code)
        except (openai.APIConnectionError, openai.APITimeoutError) as error:
            LEDGER.close(key, "not accepted", detail=repr(error)[:120])
        except openai.APIError as error:
            # An error event inside a stream.
            LEDGER.close(key, "apology", detail=("stream error: %s" % error)[:120])

    async def api_step(self):
        self.spawn(self.api_call(self.api_serial % 2 == 1))

    def spawn(self, coroutine):
        task = asyncio.create_task(coroutine)
        self.tasks.append(task)
        if len(self.tasks) > 2000:
            self.tasks = [t for t in self.tasks if not t.done()]

    # Forward HTTP API of the bot without WebSocket

    async def http_api_handler(self, request):
        if request.headers.get("Authorization") != "Bearer " + self.args.token:
            return web.json_response({"status": "failed", "retcode": 401, "data": None}, status=401)
        action = request.match_info["action"]
        params = await request.json()
        QQ_STATE.actions["http-api " + action] += 1
        data = None
        if action in ("send_msg", "send_private_msg", "send_group_msg"):
            QQ_STATE.reply(HTTP_API_BOT, params, "http-api")
            data = {"message_id": random.randint(1, 2**31 - 1)}
        return web.json_response({"status": "ok", "retcode": 0, "data": data, "echo": None})

    async def start_http_api(self):
        app = web.Application()
        app.router.add_post("/{action}", self.http_api_handler)
        self.http_api_runner = web.AppRunner(app, access_log=None)
        await self.http_api_runner.setup()
        await web.TCPSite(self.http_api_runner, "127.0.0.1", self.args.http_api_port).start()

    # Schedules

    async def reconnect_schedule(self):
        count = self.args.reconnects
        for i in range(count):
            due = self.load_started + (i + 0.5) * self.args.seconds / count
            try:
                await asyncio.wait_for(self.stop_load.wait(), timeout=max(0, due - now()))
                return
            except asyncio.TimeoutError:
                pass
            bot = self.bots[i % len(self.bots)]
            waited = now()
            while not bot.online and now() - waited < 30 and not self.stop_load.is_set():
                await asyncio.sleep(0.2)
            mode = "drop" if i % 2 else "close"
            offline = 2 * self.args.reply_wait + 2 if i % 5 == 4 else random.uniform(0.5, 3)
            done = await bot.disconnect(mode, offline)
            self.reconnect_log.append({"at": utc(), "bot": bot.self_id, "mode": mode, "offline_s": round(offline, 1), "done": done})

    async def web_reconnects(self):
        if self.args.web_reconnect_seconds <= 0 or not self.web:
            return
        interval = self.args.web_reconnect_seconds / len(self.web)
        i = 0
        while not self.stop_load.is_set():
            try:
                await asyncio.wait_for(self.stop_load.wait(), timeout=interval)
                return
            except asyncio.TimeoutError:
                pass
            self.spawn(self.web[i % len(self.web)].reconnect())
            i += 1

    async def wait_connected(self, timeout):
        deadline = now() + timeout
        while now() < deadline:
            if all(b.online for b in self.bots) and all(c.online for c in self.web):
                return True
            await asyncio.sleep(0.1)
        return False

    async def run(self):
        args = self.args
        self.http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=64))
        # Probes open a connection each and close it, so they hold no descriptor of the hub's
        # when it is counted.
        self.probe = aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True))
        self.api = openai.AsyncOpenAI(api_key=args.api_key, base_url=args.hub_url + "/v1", max_retries=0, timeout=120)
        await self.start_http_api()
        await self.sample("start")
        connections = [asyncio.create_task(b.run(self.stop_all)) for b in self.bots]
        connections += [asyncio.create_task(c.run(self.stop_all)) for c in self.web]
        if not await self.wait_connected(30):
            log("not every bot and web client connected within 30 s")
        await asyncio.sleep(2)
        await self.sample("connected")
        self.load_started = now()
        if args.started_file:
            with open(args.started_file, "w") as f:
                f.write(utc() + "\n")
        log("load started: %d s; %d bots, %d web clients; rates/s ws %.1f, http→ws %.1f, http→http-api %.1f, web %.1f, openai %.1f; %d reconnects" % (
            args.seconds, len(self.bots), len(self.web), args.rate_ws, args.rate_http, args.rate_http_api, args.rate_web, args.rate_api, args.reconnects))
        background = [asyncio.create_task(self.sampler()), asyncio.create_task(self.watcher())]
        load = [
            asyncio.create_task(paced(args.rate_ws, self.stop_load, self.ws_step)),
            asyncio.create_task(paced(args.rate_http, self.stop_load, self.http_step)),
            asyncio.create_task(paced(args.rate_http_api, self.stop_load, self.http_api_step)),
            asyncio.create_task(paced(args.rate_web, self.stop_load, self.web_step)),
            asyncio.create_task(paced(args.rate_api, self.stop_load, self.api_step)),
            asyncio.create_task(self.reconnect_schedule()),
            asyncio.create_task(self.web_reconnects()),
        ]
        try:
            await asyncio.wait_for(self.stop_load.wait(), timeout=args.seconds)
        except asyncio.TimeoutError:
            pass
        self.stop_load.set()
        self.load_ended = now()
        await asyncio.gather(*load, return_exceptions=True)
        log("load stopped after %.0f s: %d messages sent, %d in flight; every bot comes back now" % (
            self.load_ended - self.load_started, sum(LEDGER.sent.values()), len(LEDGER.outstanding)))
        for bot in self.bots:
            bot.back_now.set()
        await self.wait_connected(30)
        # The drain: replies held for a bot that was away come from the outbox when it is back,
        # and a reply may wait onebot.reply_wait; every message in flight gets this long.
        deadline = now() + args.drain_seconds
        while LEDGER.outstanding and now() < deadline and not self.hub_died:
            await asyncio.sleep(0.5)
        await asyncio.gather(*[t for t in self.tasks if not t.done()], return_exceptions=True)
        self.drain_seconds = now() - self.load_ended
        log("drain: %.0f s, %d messages without a reply" % (self.drain_seconds, len(LEDGER.outstanding)))
        await asyncio.sleep(args.settle_seconds)
        await self.sample("after")
        # Everyone leaves; what the hub keeps for a closed connection has time to go.
        self.stop_all.set()
        for bot in self.bots:
            if bot.ws is not None:
                try:
                    await bot.ws.close(1000, "soak over")
                except Exception:
                    pass
        for client in self.web:
            if client.ws is not None:
                try:
                    await client.ws.close(1000, "soak over")
                except Exception:
                    pass
        await asyncio.gather(*connections, *background, return_exceptions=True)
        # The API clients' keep-alive connections and the forward HTTP API server go too.
        await self.api.close()
        await self.http.close()
        await self.http_api_runner.cleanup()
        await asyncio.sleep(args.closed_wait)
        await self.sample("closed")
        self.final_metrics = await self.metrics()
        self.final_routes = await self.providers()
        self.final_stats = await self.get_json(args.hub_url + "/stats")
        self.upstream_stats = await self.get_json(args.upstream_url + "/stats") if args.upstream_url else None
        self.upstream_cpu = self.cpu_of(args.upstream_pid) if args.upstream_pid else None
        self.driver_cpu = time.process_time()
        _, _, self.inbox_states = self.database()
        await self.probe.close()

    async def get_json(self, url):
        try:
            async with self.probe.get(url, timeout=aiohttp.ClientTimeout(total=5)) as r:
                return await r.json()
        except Exception as error:
            return {"error": repr(error)}


# MARK: - Report


def percentile(values, q):
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def hub_log_summary(path):
    levels = collections.Counter()
    messages = collections.Counter()
    pattern = re.compile(r"^\S+ (trace|debug|info|notice|warning|error|critical) [^:]*:(.*?) \[[A-Za-z0-9_]+\] (.*)$")
    other = 0
    try:
        with open(path, errors="replace") as f:
            for line in f:
                match = pattern.match(line.rstrip("\n"))
                if not match:
                    other += 1
                    continue
                level, _, message = match.groups()
                levels[level] += 1
                if level in ("notice", "warning", "error", "critical"):
                    metadata = match.group(2)
                    error = re.search(r"error=(.{0,90})", metadata)
                    messages[(level, message, error.group(1).split(" hub.")[0] if error and level != "notice" else "")] += 1
    except FileNotFoundError:
        pass
    return levels, messages, other


def inbox_row(path, key):
    """The hub's inbox row of the message `key` (state, outcome), or why there is none."""
    if key[0] == "qq":
        pattern = "qq:%d:message:%s:%%:%d:%%" % (key[1], key[2], key[-1])
    elif key[0] == "web":
        pattern = "web:web:%s:%s" % (key[1], key[2])
    else:
        return "(API requests are not kept there)"
    try:
        connection = sqlite3.connect(path, timeout=2)
        try:
            rows = connection.execute("SELECT event_key, state, coalesce(outcome, '-') FROM inbox WHERE event_key LIKE ?", (pattern,)).fetchall()
        finally:
            connection.close()
    except sqlite3.Error as error:
        return "unreadable (%r)" % error
    return ", ".join("%s %s/%s" % row for row in rows) or "no row (the hub never took the message)"


def report(driver, args):
    doors = ["qq ws", "qq http→ws", "qq http→http-api", "web", "openai", "openai stream"]
    lines = []
    out = lines.append
    load_s = (driver.load_ended or now()) - (driver.load_started or now())
    out("## Soak, %s" % utc())
    out("")
    out("Load %.0f s, drain %.0f s; %d bots (reverse WebSocket) + 1 HTTP-only bot, %d web clients; reply_wait %.0f s." % (
        load_s, getattr(driver, "drain_seconds", 0), len(driver.bots), len(driver.web), args.reply_wait))
    out("")
    out("### Messages per door")
    out("")
    out("| door | sent | answer | failure apology/notice | busy | refused | not accepted | **no reply** | wrong answer | duplicate replies | replied after a reconnect | latency p50 / p99 / max s |")
    out("|---|---|---|---|---|---|---|---|---|---|---|---|")
    no_reply = collections.Counter(m.door for m in LEDGER.outstanding.values())
    totals = collections.Counter()
    for door in doors:
        o = LEDGER.outcomes[door]
        lat = LEDGER.latency[door]
        row = {"sent": LEDGER.sent[door], "answer": o["answer"], "apology": o["apology"], "busy": o["busy"], "refused": o["refused"],
               "not accepted": o["not accepted"], "no reply": no_reply[door], "wrong": o["wrong answer"],
               "dup": LEDGER.duplicates[door], "late": LEDGER.after_reconnect[door]}
        totals.update(row)
        latency = "%.2f / %.2f / %.2f" % (percentile(lat, 0.5), percentile(lat, 0.99), max(lat)) if lat else "-"
        out("| %s | %d | %d | %d | %d | %d | %d | **%d** | %d | %d | %d | %s |" % (
            door, row["sent"], row["answer"], row["apology"], row["busy"], row["refused"], row["not accepted"], row["no reply"],
            row["wrong"], row["dup"], row["late"], latency))
    out("| **all** | %d | %d | %d | %d | %d | %d | **%d** | %d | %d | %d | |" % (
        totals["sent"], totals["answer"], totals["apology"], totals["busy"], totals["refused"], totals["not accepted"], totals["no reply"],
        totals["wrong"], totals["dup"], totals["late"]))
    out("")
    refusals = {door: dict(c) for door, c in LEDGER.refusals.items() if c}
    if refusals:
        out("Refusals: %s" % json.dumps(refusals, ensure_ascii=False))
    if LEDGER.unmatched:
        out("Replies matching no message: %s" % dict(LEDGER.unmatched))
    if driver.skipped:
        out("Send ticks skipped (every user of the door waiting for a reply or offline): %s" % dict(driver.skipped))
    if driver.post_errors:
        out("HTTP POST transport errors: %s" % dict(driver.post_errors))
    out("")
    out("### Hub process and gauges")
    out("")
    out("| phase | t s | RSS MiB | fds | threads | CPU s | bots | web clients | redis_up | LLM in flight | inbox open | outbox | driver in flight | fds by kind |")
    out("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    samples = driver.samples
    load_samples = [s for s in samples if s["phase"] == "load"]
    # Every sample of a short run; of a long one about eight of the load, always the last.
    step = max(1, round(len(load_samples) / 8))
    shown_load = {id(s) for s in load_samples[step - 1::step] + load_samples[-1:]}
    dash = lambda value: "-" if value is None else value
    for s in samples:
        if s["phase"] == "load" and id(s) not in shown_load:
            continue
        out("| %s | %.0f | %.1f | %s | %s | %.1f | %s | %s | %s | %s | %s | %s | %d | %s |" % (
            s["phase"], s["t_s"], s["rss_mib"], dash(s["fds"]), dash(s["threads"]), s["cpu_s"], dash(s["bots"]), dash(s["web_clients"]),
            dash(s["redis_up"]), s["llm_in_flight"], dash(s["inbox_open"]), dash(s["outbox"]), s["in_flight"], s["fd_kinds"]))
    out("")
    if load_samples:
        rss = [s["rss_mib"] for s in load_samples]
        fds = [s["fds"] for s in load_samples if s["fds"] is not None]
        threads = [s["threads"] for s in load_samples if s["threads"] is not None]
        out("During the load (%d samples, every %.0f s; all in samples.csv): RSS %.1f–%.1f MiB, fds %d–%d, threads %d–%d." % (
            len(load_samples), args.sample_seconds, min(rss), max(rss), min(fds), max(fds), min(threads), max(threads)))
        if len(load_samples) >= 4:
            quarter = len(load_samples) // 4
            out("RSS by quarter of the load (last sample of each): %s MiB." % " → ".join(
                "%.1f" % load_samples[min(len(load_samples) - 1, (i + 1) * quarter - 1)]["rss_mib"] for i in range(4)))
    by_phase = {s["phase"]: s for s in samples}
    if "connected" in by_phase and "drain" in by_phase:
        cpu = by_phase["drain"]["cpu_s"] - by_phase["connected"]["cpu_s"]
        load_s = (driver.load_ended or now()) - (driver.load_started or now())
        sent = max(1, sum(LEDGER.sent.values()))
        out("CPU over the load: hub %.0f s (%.0f%% of one core, %.0f µs per message)%s%s." % (
            cpu, 100 * cpu / max(1, load_s), 1e6 * cpu / sent,
            "; upstream stand-in %.0f s" % driver.upstream_cpu if driver.upstream_cpu is not None else "",
            "; driver %.0f s" % driver.driver_cpu if driver.driver_cpu is not None else ""))
    out("In-flight work: the hub exposes connected bots and web clients (/metrics), redis_up, each route's LLM requests in flight "
        "(/admin/providers); lane jobs and active sessions are not exposed, so the open inbox rows (received/answering/replying) "
        "and outbox rows are read from its SQLite file instead.")
    out("")
    out("### Events")
    out("")
    planned = collections.Counter()
    for bot in driver.bots:
        planned.update(bot.planned_disconnects)
    out("- Bot reconnects: %d planned disconnects (%s), %d reconnected; unplanned disconnects: %d; connect failures: %d." % (
        sum(planned.values()), ", ".join("%s %d" % item for item in sorted(planned.items())), sum(b.reconnects_done for b in driver.bots),
        sum(len(b.unplanned) for b in driver.bots), sum(b.connect_failures for b in driver.bots)))
    for bot in driver.bots:
        for u in bot.unplanned:
            out("  - unplanned, bot %d at %s: code %s reason %r (%s)" % (bot.self_id, u["at"], u["code"], u["reason"], u["error"]))
    web_connects = sum(c.connects for c in driver.web)
    out("- Web clients: %d connections (%d reconnects between messages), first frame not history: %d, unplanned disconnects: %d; "
        "history lengths on reconnect: %s." % (
            web_connects, web_connects - len(driver.web), sum(c.bad_first_frames for c in driver.web), sum(len(c.unplanned) for c in driver.web),
            sorted({h for c in driver.web for h in c.history_lengths[1:]})[:12]))
    redis_changes = [t for t in driver.transitions if "redis_up" in t]
    events = []
    if args.events_file and os.path.exists(args.events_file):
        with open(args.events_file) as f:
            events = [line.strip() for line in f if line.strip()]
    out("- Redis: %s; redis_up changes seen on /metrics: %s; cache fallbacks: %s." % (
        "; ".join(events) or "no restart", ", ".join("%s→%d at t=%.0fs" % (t["at"][11:19], t["redis_up"], t["t_s"]) for t in redis_changes) or "none",
        {k.split("{")[1].rstrip("}"): int(v) for k, v in driver.final_metrics.items() if k.startswith("hub_cache_fallbacks_total{")}))
    upstream = driver.upstream_stats or {}
    out("- Upstream stand-in: %s requests, %s failed with 500 (injected), %s answered (%s streamed)." % (
        upstream.get("requests"), upstream.get("failed_500"), upstream.get("answered"), upstream.get("streamed")))
    attempts = collections.Counter()
    for key, value in driver.final_metrics.items():
        if key.startswith("hub_llm_request_duration_seconds_count{"):
            labels = dict(re.findall(r'(\w+)="([^"]*)"', key))
            attempts["%s %s" % (labels.get("provider"), labels.get("outcome"))] += int(value)
    out("- Hub LLM attempts by provider and outcome: %s." % dict(sorted(attempts.items())))
    out("- Routes at the end: %s." % ", ".join("%s breaker %s, %d ok / %d failed" % (r.get("provider"), r.get("breaker"), r.get("successes", 0), r.get("failures", 0))
                                              for r in driver.final_routes))
    replies = {k.split("{")[1].rstrip("}"): int(v) for k, v in driver.final_metrics.items() if k.startswith("hub_replies_total{")}
    out("- Hub replies (hub_replies_total): %s." % replies)
    others = {name: int(v) for name in ("hub_duplicates_dropped_total", "hub_lane_refused_total", "hub_rate_limited_total", "hub_malformed_input_total")
              for k, v in driver.final_metrics.items() if k == name or k.startswith(name + "{")}
    out("- Other counters: %s; inbox rows by state/outcome at the end: %s." % (others or "none", driver.inbox_states))
    out("- QQ actions received: %s." % dict(QQ_STATE.actions))
    levels, messages, other = hub_log_summary(args.hub_log) if args.hub_log else ({}, {}, 0)
    out("")
    out("### Hub log (%s)" % (", ".join("%s %d" % item for item in sorted(levels.items())) or "empty"))
    out("")
    for (level, message, error), count in messages.most_common(25):
        out("- %d × %s: %s%s" % (count, level, message, (" — " + error) if error else ""))
    if LEDGER.outstanding:
        out("")
        out("### Messages with no reply")
        out("")
        for m in list(LEDGER.outstanding.values())[:40]:
            user = m.meta.get("user")
            out("- %s %s sent %.0f s after the start%s%s; the hub's inbox: %s" % (
                m.door, m.token, m.sent_at - driver.load_started, " (bot %d, user %d)" % (user.self_id, user.user_id) if user else "",
                " while the bot was away" if m.meta.get("sent_offline") else "", inbox_row(args.db, m.key)))
    for outcome, examples in LEDGER.examples.items():
        out("")
        out("Examples of %s: %s" % (outcome, json.dumps(examples[:5], ensure_ascii=False)))
    text = "\n".join(lines) + "\n"
    print()
    print(text)
    with open(os.path.join(args.out, "summary.md"), "w") as f:
        f.write(text)
    with open(os.path.join(args.out, "samples.csv"), "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(driver.samples[0].keys()))
        writer.writeheader()
        writer.writerows(driver.samples)
    summary = {
        "sent": dict(LEDGER.sent), "outcomes": {d: dict(c) for d, c in LEDGER.outcomes.items()}, "no_reply": dict(no_reply),
        "duplicates": dict(LEDGER.duplicates), "unmatched": dict(LEDGER.unmatched), "after_reconnect": dict(LEDGER.after_reconnect),
        "samples": driver.samples, "transitions": driver.transitions, "reconnects": driver.reconnect_log,
        "unplanned": {b.self_id: b.unplanned for b in driver.bots}, "metrics": driver.final_metrics, "routes": driver.final_routes,
        "stats": driver.final_stats, "upstream": driver.upstream_stats, "inbox_states": driver.inbox_states,
        "unanswered": [{"door": m.door, "token": m.token, "key": repr(m.key), "sent_offline": bool(m.meta.get("sent_offline"))} for m in LEDGER.outstanding.values()],
    }
    with open(os.path.join(args.out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1, default=str, ensure_ascii=False)
    failed = bool(LEDGER.outstanding) or totals["wrong"] > 0 or driver.hub_died
    return 1 if failed else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hub-url", required=True)
    parser.add_argument("--hub-pid", type=int, required=True)
    parser.add_argument("--db", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--admin-key", required=True)
    parser.add_argument("--api-key", required=True)
    parser.add_argument("--http-api-port", type=int, required=True)
    parser.add_argument("--upstream-url")
    parser.add_argument("--upstream-pid", type=int)
    parser.add_argument("--redis-port", type=int, default=0)
    parser.add_argument("--hub-log")
    parser.add_argument("--events-file")
    parser.add_argument("--started-file")
    parser.add_argument("--out", required=True)
    parser.add_argument("--seconds", type=float, default=1800)
    parser.add_argument("--reconnects", type=int, default=100)
    parser.add_argument("--reply-wait", type=float, default=5)
    parser.add_argument("--bots", type=int, default=4)
    parser.add_argument("--private-users", type=int, default=20)
    parser.add_argument("--groups", type=int, default=2)
    parser.add_argument("--group-users", type=int, default=5)
    parser.add_argument("--http-users", type=int, default=5)
    parser.add_argument("--web-clients", type=int, default=8)
    parser.add_argument("--web-reconnect-seconds", type=float, default=120, help="each web client leaves and comes back about this often")
    parser.add_argument("--rate-ws", type=float, default=10)
    parser.add_argument("--rate-http", type=float, default=3)
    parser.add_argument("--rate-http-api", type=float, default=2)
    parser.add_argument("--rate-web", type=float, default=8)
    parser.add_argument("--rate-api", type=float, default=6)
    parser.add_argument("--sample-seconds", type=float, default=30)
    parser.add_argument("--drain-seconds", type=float, default=120)
    parser.add_argument("--settle-seconds", type=float, default=5)
    parser.add_argument("--closed-wait", type=float, default=35)
    args = parser.parse_args()
    base = args.hub_url.replace("http://", "ws://", 1)
    args.ws_url = base + "/onebot/v11/ws"
    args.hub_port = int(args.hub_url.rsplit(":", 1)[1].split("/")[0])
    args.upstream_port = int(args.upstream_url.rsplit(":", 1)[1].split("/")[0]) if args.upstream_url else 0
    args.ws_base = base
    os.makedirs(args.out, exist_ok=True)
    driver = Driver(args)
    try:
        asyncio.run(driver.run())
    except KeyboardInterrupt:
        return 130
    return report(driver, args)


if __name__ == "__main__":
    sys.exit(main())
