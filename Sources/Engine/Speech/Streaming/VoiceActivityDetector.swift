// SPDX-License-Identifier: Apache-2.0
import CWebRTCVAD

/// WebRTC's voice activity detector: which 10 ms frames of 16 kHz mono audio hold speech.
///
/// It runs through the public C++ API of Debian's libwebrtc-audio-processing 0.3
/// (`AudioProcessing::voice_detection()`, behind the C shim `CWebRTCVAD`), whose decisions equal
/// the library's `WebRtcVad_*` functions frame for frame. Measured on labelled espeak-ng speech in
/// noise (/work/notes/VAD.md): the most accurate of the VADs at hand at 10–20 dB SNR (mode 3: 92.4 %
/// of frames right at 20 dB, 89.7 % at 10 dB) with the shortest endpoint delay (median 510 ms under a
/// 500 ms silence rule), for about 0.13 ms of CPU per second of audio.
///
/// Samples may come in any count: what does not fill a frame waits for the next call. One detector
/// per stream, used by one task at a time.
///
/// ```swift
/// let vad = try VoiceActivityDetector(mode: .veryAggressive)
/// let decisions = vad.push(samples)   // one Bool per 10 ms frame completed
/// ```
public final class VoiceActivityDetector {
    /// How readily audio is called non-speech, WebRTC's VAD modes 0–3.
    public enum Mode: Int, Sendable, Hashable, CaseIterable {
        /// Mode 0: flags the most as speech (misses the least, also passes noise as speech).
        case quality = 0
        /// Mode 1.
        case lowBitrate = 1
        /// Mode 2: more missed speech than mode 3's fewer false alarms, when missing matters more.
        case aggressive = 2
        /// Mode 3: the fewest false alarms and false starts in noise; the hub's default.
        case veryAggressive = 3
    }

    /// The sample rate the detector takes.
    public static let sampleRate = 16_000
    /// Samples in a frame: 10 ms.
    public static let frameSamples = 160

    /// Changing it keeps what the detector has learnt of the noise.
    public var mode: Mode {
        didSet { _ = hub_vad_set_mode(handle, Int32(mode.rawValue)) }
    }

    /// Frames classified since the detector was made or reset.
    public private(set) var frames = 0

    private let handle: OpaquePointer
    /// The start of the next frame: fewer than ``frameSamples`` samples.
    private var pending: [Int16] = []

    /// - Throws: ``SpeechError`` of kind `notConfigured` when the library cannot make a detector.
    public init(mode: Mode = .veryAggressive) throws {
        guard let handle = hub_vad_create(Int32(mode.rawValue)) else {
            throw SpeechError(kind: .notConfigured, message: "the WebRTC voice activity detector could not be created")
        }
        self.handle = handle
        self.mode = mode
        pending.reserveCapacity(Self.frameSamples)
    }

    deinit {
        hub_vad_destroy(handle)
    }

    /// Classifies the frames `samples` complete, with what earlier calls left over; one decision
    /// (true: speech) per frame, in order.
    public func push(_ samples: some Collection<Int16>) -> [Bool] {
        var decisions: [Bool] = []
        decisions.reserveCapacity((pending.count + samples.count) / Self.frameSamples)
        push(samples) { _, voiced in decisions.append(voiced) }
        return decisions
    }

    /// Classifies the frames `samples` complete, with what earlier calls left over, handing `body`
    /// each frame's samples and whether it holds speech, in order.
    public func push(_ samples: some Collection<Int16>, _ body: (_ frame: UnsafeBufferPointer<Int16>, _ voiced: Bool) throws -> Void) rethrows {
        var index = samples.startIndex
        while index != samples.endIndex {
            let wanted = Self.frameSamples - pending.count
            let end = samples.index(index, offsetBy: wanted, limitedBy: samples.endIndex) ?? samples.endIndex
            pending.append(contentsOf: samples[index..<end])
            index = end
            guard pending.count == Self.frameSamples else { break }
            let voiced = pending.withUnsafeBufferPointer { classify($0) }
            try pending.withUnsafeBufferPointer { try body($0, voiced) }
            pending.removeAll(keepingCapacity: true)
        }
    }

    /// Classifies one whole frame (``frameSamples`` samples), bypassing the buffering of
    /// ``push(_:)``: true when it holds speech. A frame of another size is never speech.
    public func classify(_ frame: UnsafeBufferPointer<Int16>) -> Bool {
        guard frame.count == Self.frameSamples, let base = frame.baseAddress else { return false }
        frames += 1
        // Negative: an error of the library (it takes any 10 ms frame at 16 kHz): not speech.
        return hub_vad_process(handle, base, frame.count) == 1
    }

    /// Forgets everything heard, the buffered part of a frame included, keeping the mode: the
    /// decisions that follow are those of a new detector. For a new stream.
    public func reset() {
        _ = hub_vad_reset(handle)
        pending.removeAll(keepingCapacity: true)
        frames = 0
    }

    /// Samples waiting for the rest of their frame.
    public var bufferedSamples: Int { pending.count }
}
