// SPDX-License-Identifier: Apache-2.0
// The chat page's microphone, in the audio thread: the capture at the AudioContext's rate in,
// 16 kHz mono little-endian PCM16 frames (60 ms by default) out to the page, as ArrayBuffers.
//
// Downsampling: a windowed-sinc low-pass below 8 kHz at the input rate (so nothing above the
// new Nyquist folds back into the speech band), then linear interpolation at the rate ratio,
// which need not be whole (44.1 kHz → 16 kHz).
//
// Messages from the page: "flush" (post the partial frame, then {type: "flushed"}) and "stop"
// (the processor ends and can be collected).
"use strict";

const TARGET_RATE = 16000;
const CUTOFF_HZ = 7200;

// Taps of a Blackman-windowed sinc low-pass at `cutoff` (a fraction of the input rate), summing to 1.
function lowPass(cutoff, count) {
  const taps = new Float32Array(count);
  const middle = (count - 1) / 2;
  let sum = 0;
  for (let n = 0; n < count; n += 1) {
    const x = n - middle;
    const sinc = x === 0 ? 2 * cutoff : Math.sin(2 * Math.PI * cutoff * x) / (Math.PI * x);
    const window = 0.42 - 0.5 * Math.cos((2 * Math.PI * n) / (count - 1)) + 0.08 * Math.cos((4 * Math.PI * n) / (count - 1));
    taps[n] = sinc * window;
    sum += taps[n];
  }
  for (let n = 0; n < count; n += 1) taps[n] /= sum;
  return taps;
}

class HubMicProcessor extends AudioWorkletProcessor {
  constructor(options) {
    super();
    const requested = Number(options && options.processorOptions && options.processorOptions.frameDuration);
    const frameMs = [10, 20, 40, 60].includes(requested) ? requested : 60;
    this.frameSamples = (TARGET_RATE * frameMs) / 1000;
    this.step = sampleRate / TARGET_RATE;
    if (this.step > 1) {
      // About eight input samples per output sample on each side: steep enough for speech.
      const count = 2 * Math.ceil(8 * this.step) + 1;
      this.taps = lowPass(CUTOFF_HZ / sampleRate, count);
      // The last `count` inputs, twice over, so the filter reads one contiguous run.
      this.history = new Float32Array(2 * count);
      this.cursor = 0;
    } else {
      this.taps = null;
    }
    this.previous = 0;
    // Where the next output sample falls, in input samples after `previous` (0 < at ≤ 1 is due now).
    this.at = 1;
    this.frame = new Int16Array(this.frameSamples);
    this.filled = 0;
    this.stopped = false;
    this.port.onmessage = (event) => {
      if (event.data === "flush") {
        if (this.filled > 0) this.post(this.frame.slice(0, this.filled));
        this.filled = 0;
        this.port.postMessage({ type: "flushed" });
      } else if (event.data === "stop") {
        this.stopped = true;
      }
    };
  }

  post(samples) {
    this.port.postMessage(samples.buffer, [samples.buffer]);
  }

  filter(sample) {
    const taps = this.taps;
    if (!taps) return sample;
    const count = taps.length;
    const history = this.history;
    history[this.cursor] = sample;
    history[this.cursor + count] = sample;
    this.cursor = (this.cursor + 1) % count;
    // history[cursor .. cursor+count) runs from the oldest input to the newest.
    let sum = 0;
    for (let k = 0, i = this.cursor; k < count; k += 1, i += 1) sum += taps[k] * history[i];
    return sum;
  }

  emit(value) {
    const clamped = value < -1 ? -1 : value > 1 ? 1 : value;
    this.frame[this.filled] = Math.round(clamped < 0 ? clamped * 32768 : clamped * 32767);
    this.filled += 1;
    if (this.filled === this.frameSamples) {
      this.post(this.frame);
      this.frame = new Int16Array(this.frameSamples);
      this.filled = 0;
    }
  }

  process(inputs) {
    if (this.stopped) return false;
    const input = inputs[0];
    if (!input || input.length === 0) return true;
    const channels = input.length;
    const length = input[0].length;
    for (let i = 0; i < length; i += 1) {
      let sample = input[0][i];
      if (channels > 1) {
        for (let c = 1; c < channels; c += 1) sample += input[c][i];
        sample /= channels;
      }
      const current = this.filter(sample);
      while (this.at <= 1) {
        this.emit(this.previous + (current - this.previous) * this.at);
        this.at += this.step;
      }
      this.at -= 1;
      this.previous = current;
    }
    return true;
  }
}

registerProcessor("hub-mic", HubMicProcessor);
