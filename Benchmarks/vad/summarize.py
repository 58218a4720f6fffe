#!/usr/bin/env python3
"""Prints the condensed table used in FINDINGS.md from results/results.json."""
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
PICK = ["webrtc-m3-10ms", "webrtc-m2-10ms", "webrtc-m1-10ms", "webrtc-m3-20ms", "webrtc-m3-30ms", "webrtc-apm-lik0-10ms",
        "speex-35-20-10ms", "speex-80-60-10ms", "speex-90-80-10ms", "speex-95-90-10ms", "speex-90-80-20ms",
        "sphinx-fe-raw-t2.0", "sphinx-fe-raw-t3.0", "sphinx-fe-native-t2.0", "energy-6dB", "energy-9dB"]
r = json.load(open(os.path.join(HERE, "results", "results.json")))
f = lambda v, n=1: "–" if v is None or v != v else f"{v:.{n}f}"
print("| VAD config | CPU µs per s audio | acc clean / 30 / 20 / 10 / 5 dB | recall 10–20 dB | false alarm 10–20 dB (far noise) | "
      "cut early 10–20 dB | never ended 10–20 dB | end delay median / p90 (ms) | false starts /min (+ start-up %) | acc pink-mod 15 dB |")
print("|---|---|---|---|---|---|---|---|---|---|")
for k in PICK:
    x = r[k]
    g = x["10-20dB"]
    accs = " / ".join(f(x[c]["acc"]) for c in ("clean", "30dB", "20dB", "10dB", "5dB"))
    print(f"| {k} | {f(x['cpu_us_per_s'], 0)} | {accs} | {f(g['recall'])} % | {f(g['fa'])} % ({f(g['fa_far'])} %) | "
          f"{f(g['cut'])} % | {f(g['never'])} % | {f(g['delay_med'], 0)} / {f(g['delay_p90'], 0)} | "
          f"{f(g['false_starts_per_min'])} (+{f(g['startup_false_pct'], 0)} %) | {f(x['pinkmod15']['acc'])} |")

import sys
sys.path.insert(0, HERE)
import evaluate as ev  # noqa: E402

raw = lambda name: ev.parse(os.path.join(ev.RAW, name + ".txt"))[0]
same = lambda a, b: all(raw(a)[k] == raw(b)[k] for k in raw(a))
ps = r.get("sphinx-ps-search-native-t2.0")
if ps:
    print(f"\nsphinx-ps-search-native-t2.0 (full decoder with the en-us LM, clean+pink20 only): {f(ps['cpu_us_per_s'], 0)} µs/s; "
          f"ps_get_in_speech identical block for block to sphinx-fe-native-t2.0: {same('sphinx-ps-search-native-t2.0', 'sphinx-fe-native-t2.0')}")
for lik, mode in ((0, 3), (1, 2), (2, 1), (3, 0)):
    print(f"APM likelihood {lik} identical to WebRtcVad mode {mode} (10 ms): {same(f'webrtc-apm-lik{lik}-10ms', f'webrtc-m{mode}-10ms')}")
print("APM with set_frame_size_ms(30): always 'voice':", all(set(v) == {"1"} for v in raw("webrtc-apm-lik1-30ms").values()))
print("speex 90/80 20 ms denoise on == off:", same("speex-90-80-20ms", "speex-90-80-20ms-nodenoise"))

print("\nendpoint_silence_ms sweep, 10-20 dB conditions: cut early % / never ended % / delay median/p90 ms")
meta = ev.load_meta()
names = ["webrtc-m3-10ms", "webrtc-m2-10ms", "speex-90-80-10ms", "sphinx-fe-raw-t2.0"]
print("| silence rule | " + " | ".join(names) + " |")
print("|---" * (len(names) + 1) + "|")
for hang in (40, 50, 60, 70):
    ev.HANG = hang
    cells = []
    for name in names:
        dec = raw(name)
        m = ev.merge([ev.score_file(dec[(c, fn)], info, False) for c in ev.GROUPS["10-20dB"] for fn, info in meta["files"].items()])
        sm = ev.summary(m)
        cells.append(f"{f(sm['cut'])} / {f(sm['never'])} / {f(sm['delay_med'], 0)}/{f(sm['delay_p90'], 0)}")
    print(f"| {hang * 10} ms | " + " | ".join(cells) + " |")
