#!/usr/bin/env python3
"""Runs every VAD configuration over the test set (data/, from make_set.py) and scores it.

  python3 evaluate.py            # run what is missing in results/raw/, then score
  python3 evaluate.py --rerun    # run everything again
  python3 evaluate.py --only webrtc   # run/score only configurations whose name contains "webrtc"

Each program prints one line per file: the VAD state known at the end of every 10 ms block,
then "#cpu <us> <s of audio>". Scores (results/results.md, results/results.json):

frame level, on the VAD's own decisions: accuracy, speech recall (share of labelled speech
frames flagged), false alarms (share of labelled non-speech frames flagged), and false alarms on
"far" noise (non-speech frames at least 300 ms away from any speech frame).

endpointing: the same rule for every VAD's decisions, as a hub would apply it: a segment
opens when >= 6 of the last 10 blocks are speech, and closes (the endpoint) after 500 ms of
consecutive non-speech blocks (endpoint_silence_ms = 500). "native" configurations instead take
the library's own speech state (PocketSphinx's -vad_startspeech/-vad_postspeech) as the segment.
Per utterance [S, E) with the next utterance at N:
  - cut early: an endpoint at a time in (S, E), closing a segment that held >= 100 ms of the
    utterance's speech (the VAD lost >= 500 ms around one of its pauses, all shorter than 500 ms);
  - delay: the last endpoint in [E, N) minus E (ideal: 500 ms plus the VAD's own latency);
  - never ended: the segment still open at N (or at the end of the file): noise kept it open,
    or the next utterance merged into it;
  - missed: no segment overlaps the utterance.
false starts: segments holding < 100 ms of labelled speech, per minute of non-speech audio, not
counting those opened in a stream's first 300 ms; those (the VAD's start-up transient while its
noise model adapts) are given apart as the share of streams that begin with one.
"""
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "data")
RAW = os.path.join(HERE, "results", "raw")
BIN = os.path.join(HERE, "bin")

START_WIN, START_MIN = 10, 6   # segment opens: >= 6 speech blocks among the last 10
HANG = 50                      # 500 ms of non-speech closes it

# name -> (argv prefix, native endpointing?, conditions (None: all))
CONFIGS = {}
for fm in (10, 20, 30):
    for mode in range(4):
        CONFIGS[f"webrtc-m{mode}-{fm}ms"] = ([f"{BIN}/vad_webrtc", str(mode), str(fm)], False, None)
for lik in range(4):
    CONFIGS[f"webrtc-apm-lik{lik}-10ms"] = ([f"{BIN}/vad_apm", str(lik), "10"], False, None)
CONFIGS["webrtc-apm-lik1-30ms"] = ([f"{BIN}/vad_apm", "1", "30"], False, ["clean", "pink20"])
for fm in (10, 20):
    for start, cont in ((35, 20), (60, 45), (80, 60), (90, 80), (95, 90)):
        CONFIGS[f"speex-{start}-{cont}-{fm}ms"] = ([f"{BIN}/vad_speex", str(fm), str(start), str(cont), "1"], False, None)
CONFIGS["speex-90-80-20ms-nodenoise"] = ([f"{BIN}/vad_speex", "20", "90", "80", "0"], False, None)
for thr in ("1.0", "2.0", "3.0", "4.0"):
    CONFIGS[f"sphinx-fe-raw-t{thr}"] = ([f"{BIN}/vad_sphinx", "fe", thr, "1", "1", "0"], False, None)
for thr in ("2.0", "3.0"):
    CONFIGS[f"sphinx-fe-native-t{thr}"] = ([f"{BIN}/vad_sphinx", "fe", thr, "10", "50", "20"], True, None)
CONFIGS["sphinx-ps-search-native-t2.0"] = ([f"{BIN}/vad_sphinx", "ps-search", "2.0", "10", "50", "20"], True, ["clean", "pink20"])
for thr in (6, 9, 12):
    CONFIGS[f"energy-{thr}dB"] = ([f"{BIN}/vad_energy", str(thr)], False, None)


def load_meta():
    with open(os.path.join(DATA, "labels.json")) as fh:
        return json.load(fh)


def run_config(name, argv, conds, meta):
    out = os.path.join(RAW, name + ".txt")
    files = [os.path.join(DATA, c, f + ".raw") for c in conds for f in meta["files"]]
    res = subprocess.run(["nice", "-n", "19"] + argv + files, check=True, capture_output=True, text=True)
    with open(out, "w") as fh:
        fh.write(res.stdout)


def parse(path):
    dec, cpu = {}, None
    with open(path) as fh:
        for line in fh:
            if line.startswith("#cpu"):
                _, us, s = line.split()
                cpu = float(us) / float(s)
            else:
                p, d = line.split()
                cond, f = p.split("/")[-2], os.path.basename(p)[:-4]
                dec[(cond, f)] = d
    return dec, cpu


def segments(d, native):
    """[(open_block, endpoint_block or None)]: endpoint_block = index of the block at whose end the
    endpoint is decided (the segment covers blocks before it)."""
    segs = []
    if native:
        opened = None
        for i, c in enumerate(d):
            if c == "1" and opened is None:
                opened = i
            elif c == "0" and opened is not None:
                segs.append((opened, i))
                opened = None
        if opened is not None:
            segs.append((opened, None))
        return segs
    opened, silent, recent = None, 0, 0
    for i, c in enumerate(d):
        recent += c == "1"
        if i >= START_WIN:
            recent -= d[i - START_WIN] == "1"
        if opened is None:
            if recent >= START_MIN:
                opened, silent = i, 0
        else:
            silent = 0 if c == "1" else silent + 1
            if silent >= HANG:
                segs.append((opened, i))
                opened, recent = None, 0
    if opened is not None:
        segs.append((opened, None))
    return segs


def score_file(d, info, native):
    lab = info["labels"]
    n = min(len(lab), len(d))
    r = {"tp": 0, "fn": 0, "fp": 0, "tn": 0, "far_fp": 0, "far_n": 0}
    speech_idx = [i for i in range(n) if lab[i] == "1"]
    # distance to the nearest speech frame, for "far" noise
    dist = [10 ** 9] * n
    last = -10 ** 9
    for i in range(n):
        if lab[i] == "1":
            last = i
        dist[i] = i - last
    last = 10 ** 9
    for i in range(n - 1, -1, -1):
        if lab[i] == "1":
            last = i
        dist[i] = min(dist[i], last - i)
    for i in range(n):
        s, v = lab[i] == "1", d[i] == "1"
        if s:
            r["tp" if v else "fn"] += 1
        else:
            r["fp" if v else "tn"] += 1
            if dist[i] >= 30:
                r["far_n"] += 1
                r["far_fp"] += v
    segs = segments(d[:n], native)
    utts = info["utterances"]
    r.update({"utts": len(utts), "cut": 0, "never": 0, "missed": 0, "delays": [], "starts": [], "false_starts": 0, "startup_false": 0, "streams": 1})
    r["nonspeech_s"] = (n - len(speech_idx)) / 100
    for k, u in enumerate(utts):
        S, E = u["start"], u["end"]
        N = utts[k + 1]["start"] if k + 1 < len(utts) else n
        overlapping = [sg for sg in segs if sg[0] < E and (sg[1] is None or sg[1] + 1 > S)]
        if not overlapping:
            r["missed"] += 1
            continue
        r["starts"].append(max(0, overlapping[0][0] + 1 - S) * 10)
        # an endpoint inside the utterance, closing a segment that had taken >= 100 ms of its speech
        # (a noise segment from before S that closes just after S is a false start, not a cut)
        if any(S < sg[1] + 1 < E and lab[max(sg[0], S): sg[1] + 1].count("1") >= 10
               for sg in segs if sg[1] is not None):
            r["cut"] += 1
        if any(sg[0] < E and (sg[1] is None or sg[1] + 1 > N) for sg in segs):
            r["never"] += 1  # the segment carrying the utterance is still open when the next one starts
            continue
        closing = [sg[1] + 1 for sg in segs if sg[0] < E and sg[1] is not None and E <= sg[1] + 1 <= N]
        if closing:
            r["delays"].append((closing[0] - E) * 10)
        # else: its segment closed before E and nothing carried the tail: counted as cut above
    for sg in segs:
        a, b = sg[0], (sg[1] + 1 if sg[1] is not None else n)
        if lab[max(0, a - 10): b].count("1") < 10:  # (almost) no speech in it: opened on noise
            if a < 30:
                r["startup_false"] += 1  # the VAD's start-up transient (first 300 ms of a stream)
            else:
                r["false_starts"] += 1
    return r


def merge(rs):
    out = {}
    for r in rs:
        for k, v in r.items():
            out[k] = out.get(k, [] if isinstance(v, list) else 0) + v
    return out


def summary(m):
    if not m:
        return None
    pct = lambda a, b: 100.0 * a / b if b else float("nan")
    dl = sorted(m["delays"])
    return {
        "acc": pct(m["tp"] + m["tn"], m["tp"] + m["tn"] + m["fp"] + m["fn"]),
        "recall": pct(m["tp"], m["tp"] + m["fn"]),
        "fa": pct(m["fp"], m["fp"] + m["tn"]),
        "fa_far": pct(m["far_fp"], m["far_n"]),
        "utts": m["utts"],
        "cut": pct(m["cut"], m["utts"]),
        "never": pct(m["never"], m["utts"]),
        "missed": pct(m["missed"], m["utts"]),
        "delay_med": statistics.median(dl) if dl else float("nan"),
        "delay_p90": dl[int(0.9 * (len(dl) - 1))] if dl else float("nan"),
        "start_med": statistics.median(m["starts"]) if m["starts"] else float("nan"),
        "false_starts_per_min": m["false_starts"] / (m["nonspeech_s"] / 60),
        "startup_false_pct": pct(m["startup_false"], m["streams"]),
    }


GROUPS = {
    "clean": ["clean"], "30dB": ["white30", "pink30"], "20dB": ["white20", "pink20"],
    "10dB": ["white10", "pink10"], "5dB": ["white5", "pink5"], "pinkmod15": ["pinkmod15"],
    "10-20dB": ["white20", "pink20", "white10", "pink10"],
}


def main():
    meta = load_meta()
    os.makedirs(RAW, exist_ok=True)
    rerun = "--rerun" in sys.argv
    only = sys.argv[sys.argv.index("--only") + 1] if "--only" in sys.argv else None
    results = {}
    for name, (argv, native, conds) in CONFIGS.items():
        if only and only not in name:
            continue
        conds = conds or meta["conditions"]
        path = os.path.join(RAW, name + ".txt")
        if rerun or not os.path.exists(path):
            print("running", name, file=sys.stderr, flush=True)
            run_config(name, argv, conds, meta)
        dec, cpu = parse(path)
        per_cond = {}
        for c in conds:
            per_cond[c] = merge([score_file(dec[(c, f)], info, native) for f, info in meta["files"].items()])
        res = {"cpu_us_per_s": cpu, "native": native, "conditions": conds}
        for g, cs in list(GROUPS.items()) + [(c, [c]) for c in conds]:
            if all(c in per_cond for c in cs):
                res[g] = summary(merge([per_cond[c] for c in cs]))
        results[name] = res
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    with open(os.path.join(HERE, "results", "results.json"), "w") as fh:
        json.dump(results, fh, indent=1)
    write_md(results, meta)


def fmt(v, nd=1):
    return "–" if v is None or v != v else f"{v:.{nd}f}"


def write_md(results, meta):
    L = []
    L.append(f"Test set: {len(meta['files'])} streams, {sum(len(f['utterances']) for f in meta['files'].values())} utterances, "
             f"{meta['total_seconds_per_condition']:.0f} s per condition; conditions: {', '.join(meta['conditions'])}.\n")
    L.append("## Summary (frame scores on the VAD's raw output; endpoint scores with the 500 ms rule)\n")
    L.append("| config | CPU µs/s | acc clean | acc 20 dB | acc 10 dB | recall 10–20 | FA 10–20 | FA far 10–20 | "
             "cut early 10–20 % | never ended 10–20 % | delay med/p90 ms 10–20 | false starts/min 10–20 | start-up false % 10–20 | acc 5 dB | acc pinkmod15 |")
    L.append("|" + "---|" * 15)
    for name, r in results.items():
        g = r.get("10-20dB")
        row = [name, fmt(r["cpu_us_per_s"], 0)]
        for key in ("clean", "20dB", "10dB"):
            row.append(fmt(r[key]["acc"]) if r.get(key) else "–")
        if g:
            row += [fmt(g["recall"]), fmt(g["fa"]), fmt(g["fa_far"]), fmt(g["cut"]), fmt(g["never"]),
                    f"{fmt(g['delay_med'], 0)}/{fmt(g['delay_p90'], 0)}", fmt(g["false_starts_per_min"]),
                    fmt(g["startup_false_pct"], 0)]
        else:
            row += ["–"] * 8
        for key in ("5dB", "pinkmod15"):
            row.append(fmt(r[key]["acc"]) if r.get(key) else "–")
        L.append("| " + " | ".join(row) + " |")
    L.append("\n## Per condition group\n")
    L.append("| config | group | acc | recall | FA | FA far | cut early % | never ended % | missed % | delay med | delay p90 | start med ms | false starts/min | start-up false % |")
    L.append("|" + "---|" * 14)
    for name, r in results.items():
        for g in ("clean", "30dB", "20dB", "10dB", "5dB", "pinkmod15"):
            s = r.get(g)
            if not s:
                continue
            L.append("| " + " | ".join([name, g, fmt(s["acc"]), fmt(s["recall"]), fmt(s["fa"]), fmt(s["fa_far"]),
                                         fmt(s["cut"]), fmt(s["never"]), fmt(s["missed"]), fmt(s["delay_med"], 0),
                                         fmt(s["delay_p90"], 0), fmt(s["start_med"], 0), fmt(s["false_starts_per_min"]),
                                         fmt(s["startup_false_pct"], 0)]) + " |")
    with open(os.path.join(HERE, "results", "results.md"), "w") as fh:
        fh.write("\n".join(L) + "\n")


if __name__ == "__main__":
    main()
