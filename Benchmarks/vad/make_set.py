#!/usr/bin/env python3
"""Builds the labelled VAD test set in data/ (deterministic: fixed seeds, sox -R).

Speech: espeak-ng phrases, resampled to 16 kHz mono s16 with sox, trimmed to the 10 ms frames
within 40 dB of the phrase's loudest frame. An *utterance* is 1-3 phrases joined by short pauses (200-400 ms, shorter than
the 500 ms endpoint rule, so an endpointer must NOT cut there). A *stream file* is a lead-in
silence, then 5 utterances separated by gaps of 0.8-2.0 s, then a 2 s tail.

Labels: each 10 ms frame is speech when the clean-speech RMS of that frame is above
(file's active speech level - 35 dB) and above -70 dBFS; espeak-ng's pauses are digital
silence, so the boundaries are exact. labels.json keeps the per-frame labels and the utterance
and pause boundaries (in 10 ms frames).

Conditions: clean (only +-1 LSB TPDF dither, as the hub adds), white and pink noise (sox synth)
at 30/20/10/5 dB SNR (speech power over labelled speech frames vs. noise power), and pink noise
at 15 dB whose level swings +-6 dB with a 4 s period (non-stationary). Output:
data/<cond>/<file>.raw (s16le, 16 kHz, mono) and data/labels.json.
"""
import json
import os
import random
import subprocess
import sys

import numpy as np

RATE = 16000
FRAME = 160  # 10 ms
HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "data")
TMP = os.path.join(DATA, "tmp")

PHRASES = [
    "what is the weather like tomorrow", "turn off the lights in the kitchen",
    "remind me to call my sister at six", "play some jazz music please",
    "how far is it to the airport", "set a timer for ten minutes",
    "what time is it in Tokyo", "add milk and eggs to the shopping list",
    "tell me a joke", "who won the game last night",
    "send a message to Peter", "I will be late for dinner",
    "open the garage door", "what is on my calendar today",
    "translate good morning into French", "how do I make pancakes",
    "stop", "yes please", "no thanks", "cancel that",
    "read me the news", "call the office", "what is seven times eight",
    "book a table for two at eight", "is it going to rain this weekend",
    "lower the volume a little", "find a pharmacy near me",
    "when does the next train leave", "spell necessary", "thank you very much",
    "wake me up at seven thirty", "how many calories are in an apple",
    "switch the heating to twenty degrees", "where did I park the car",
    "show me pictures of cats", "what does photosynthesis mean",
    "skip this song", "pause", "good night", "order a pizza with mushrooms",
    "how old is the universe", "start the vacuum cleaner", "who wrote Hamlet",
    "what is the capital of Australia", "give me a recipe for soup",
    "check my email", "what is the exchange rate for the euro",
    "turn it up", "open the window", "call mom on speaker",
]
VOICES = [("en-us", 0.55), ("en-us+f3", 0.25), ("en-gb+m3", 0.10), ("en+f2", 0.10)]
SPEEDS = [140, 175, 210]
N_FILES = 8
UTTS_PER_FILE = 5
CONDITIONS = [("clean", None, None)] + [
    (f"{kind}{snr}", kind, snr) for kind in ("white", "pink") for snr in (30, 20, 10, 5)
] + [("pinkmod15", "pinkmod", 15)]


def run(cmd):
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def synth(text, voice, speed, path):
    wav = path + ".wav"
    run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", wav, text])
    run(["sox", "-R", wav, "-t", "raw", "-r", str(RATE), "-c", "1", "-b", "16", "-e", "signed-integer", path, "rate", "-h", "16k"])
    x = np.fromfile(path, dtype="<i2").astype(np.float64)
    # trim to the 10 ms frames within 40 dB of the phrase's loudest frame, so that the pauses put
    # between phrases are the labelled pauses (within a frame or two)
    n = len(x) // FRAME * FRAME
    e = 10 * np.log10(np.mean(x[:n].reshape(-1, FRAME) ** 2, axis=1) + 1e-9)
    keep = np.nonzero(e > e.max() - 40)[0]
    return x[keep[0] * FRAME: (keep[-1] + 1) * FRAME]


def noise(kind, seconds, path):
    if not os.path.exists(path):
        run(["sox", "-R", "-n", "-t", "raw", "-r", str(RATE), "-c", "1", "-b", "16", "-e", "signed-integer",
             path, "synth", str(seconds), kind + "noise", "vol", "0.5"])
    return np.fromfile(path, dtype="<i2").astype(np.float64)


def main():
    os.makedirs(TMP, exist_ok=True)
    rng = random.Random(20240611)
    phrases = PHRASES[:]
    rng.shuffle(phrases)
    pool = iter(phrases * 3)
    files = {}
    clean = {}
    for f in range(N_FILES):
        name = f"s{f:02d}"
        level_db = rng.choice([-20, -24, -28, -32])  # active speech level of this file, dBFS
        parts = [np.zeros(int(rng.choice([0.5, 1.0, 1.5]) * RATE))]
        utts = []
        for u in range(UTTS_PER_FILE):
            voice = rng.choices([v for v, _ in VOICES], [w for _, w in VOICES])[0]
            speed = rng.choice(SPEEDS)
            nph = rng.choices([1, 2, 3], [0.4, 0.4, 0.2])[0]
            texts, segs = [], []
            for p in range(nph):
                text = next(pool)
                texts.append(text)
                seg = synth(text, voice, speed, os.path.join(TMP, f"{name}_{u}_{p}.raw"))
                segs.append(seg)
                if p < nph - 1:
                    segs.append(np.zeros(int(rng.choice([0.2, 0.25, 0.3, 0.35, 0.4]) * RATE)))
            utts.append({"voice": voice, "speed": speed, "text": " | ".join(texts), "sample_start": sum(map(len, parts))})
            parts.extend(segs)
            utts[-1]["sample_end"] = sum(map(len, parts))
            gap = 2.0 if u == UTTS_PER_FILE - 1 else rng.choice([0.8, 1.0, 1.5, 2.0])
            parts.append(np.zeros(int(gap * RATE)))
        x = np.concatenate(parts)
        x = x[: len(x) // FRAME * FRAME]
        frames = x.reshape(-1, FRAME)
        rms_db = 10 * np.log10(np.mean(frames ** 2, axis=1) + 1e-9) - 20 * np.log10(32768)
        # active level from frames that are clearly speech, then the label threshold below it
        loud = rms_db > (rms_db.max() - 30)
        gain = 10 ** ((level_db - 10 * np.log10(np.mean(10 ** (rms_db[loud] / 10)))) / 20)
        x *= gain
        rms_db += 20 * np.log10(gain)
        active_db = 10 * np.log10(np.mean(10 ** (rms_db[loud] / 10)))
        lab = (rms_db > active_db - 35) & (rms_db > -70)
        # utterance bounds and internal pauses, from the labels inside each utterance's sample span
        for ut in utts:
            a, b = ut["sample_start"] // FRAME, min((ut["sample_end"] + FRAME - 1) // FRAME, len(lab))
            idx = np.nonzero(lab[a:b])[0] + a
            ut["start"], ut["end"] = int(idx[0]), int(idx[-1] + 1)  # [start, end) in frames
            pauses = []
            run_start = None
            for i in range(ut["start"], ut["end"]):
                if not lab[i] and run_start is None:
                    run_start = i
                if lab[i] and run_start is not None:
                    pauses.append([run_start, i])
                    run_start = None
            ut["pauses_ge_100ms"] = [p for p in pauses if p[1] - p[0] >= 10]
            del ut["sample_start"], ut["sample_end"]
        files[name] = {"level_dbfs": level_db, "active_db": round(float(active_db), 2), "frames": len(lab),
                       "labels": "".join("1" if v else "0" for v in lab), "utterances": utts}
        clean[name] = x
        print(name, f"{len(x) / RATE:.1f}s", level_db, "dBFS", file=sys.stderr)

    total = sum(len(v) for v in clean.values())
    nrng = np.random.default_rng(7)
    for cond, kind, snr in CONDITIONS:
        d = os.path.join(DATA, cond)
        os.makedirs(d, exist_ok=True)
        for name, x in clean.items():
            lab = np.array([c == "1" for c in files[name]["labels"]])
            y = x.copy()
            if kind is not None:
                base = "pink" if kind == "pinkmod" else kind
                n = noise(base, 300, os.path.join(TMP, f"{base}.raw"))
                off = int(nrng.integers(0, len(n) - len(x)))
                n = n[off: off + len(x)].copy()
                if kind == "pinkmod":
                    t = np.arange(len(x)) / RATE
                    n *= 10 ** (6 * np.sin(2 * np.pi * t / 4.0 + nrng.uniform(0, 6.28)) / 20)
                p_speech = np.mean(x.reshape(-1, FRAME)[lab] ** 2)
                p_noise = np.mean(n ** 2)
                y += n * np.sqrt(p_speech / p_noise / 10 ** (snr / 10))
            y += nrng.integers(-1, 2, len(y)) + 0.0  # +-1 LSB, as the hub dithers
            np.clip(np.round(y), -32768, 32767).astype("<i2").tofile(os.path.join(d, name + ".raw"))
    meta = {"rate": RATE, "frame_ms": 10, "conditions": [c for c, _, _ in CONDITIONS], "files": files,
            "total_seconds_per_condition": total / RATE}
    with open(os.path.join(DATA, "labels.json"), "w") as fh:
        json.dump(meta, fh, indent=1)
    print(f"{len(files)} files, {N_FILES * UTTS_PER_FILE} utterances, {total / RATE:.1f} s per condition, "
          f"{len(CONDITIONS)} conditions", file=sys.stderr)


if __name__ == "__main__":
    main()
