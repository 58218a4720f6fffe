// SPDX-License-Identifier: Apache-2.0
import CPocketSphinx
import Foundation
import Synchronization

/// One pocketsphinx decoder (`ps_decoder_t`) with its model loaded, set up for a configuration's search.
///
/// `@unchecked Sendable`: a decoder is not thread-safe, and ``PocketSphinxRecognizer`` hands each
/// one to a single job at a time (taken from and returned to its pool under a lock); it crosses
/// threads only between jobs.
final class PocketSphinxDecoder: @unchecked Sendable {
    /// Samples per `ps_process_raw` call, as `pocketsphinx_continuous` feeds them: whole-buffer
    /// calls recognize worse (PLATFORM.md, pitfall 3).
    static let blockSamples = 2048
    /// The rate the acoustic model was trained at.
    static let sampleRate = 16_000

    private let decoder: OpaquePointer
    /// The cepstral mean as the model set it up (`-cmninit`), before any utterance: restored at the
    /// start of each one. Fed in blocks, pocketsphinx turns the model's batch CMN into live CMN,
    /// which carries its estimate over from the utterances this decoder heard before: the same
    /// audio was recognized differently depending on which pooled decoder took it and what that
    /// one had decoded last. Empty when there is no CMN.
    private let initialMean: [Float]

    /// Loads the model (about half a second) and sets up the search.
    /// - Throws: ``SpeechError`` of kind `notConfigured` when the model or the search cannot be loaded.
    init(_ configuration: PocketSphinxConfiguration) throws {
        Self.silenceLogging
        // One load at a time in the process: sphinxbase keeps global state (its log file among
        // it), and concurrent ps_init calls with `-logfn` once deadlocked inside stdio.
        decoder = try Self.loading.withLock { _ in try Self.load(configuration) }
        initialMean = Self.liveMean(of: decoder).map { Array(UnsafeBufferPointer(start: $0.pointee.cmn_mean, count: Int($0.pointee.veclen))) } ?? []
    }

    /// The CMN state of `decoder`, or nil when it does no CMN.
    private static func liveMean(of decoder: OpaquePointer) -> UnsafeMutablePointer<cmn_t>? {
        guard let feat = ps_get_feat(decoder), feat.pointee.cmn != CMN_NONE, let cmn = feat.pointee.cmn_struct,
            cmn.pointee.cmn_mean != nil, cmn.pointee.veclen > 0
        else { return nil }
        return cmn
    }

    deinit {
        ps_free(decoder)
    }

    private static func load(_ configuration: PocketSphinxConfiguration) throws -> OpaquePointer {
        let model = configuration.modelDirectory
        var arguments = [
            "hub", "-hmm", model + "/en-us", "-dict", model + "/cmudict-en-us.dict", "-samprate", String(sampleRate),
        ]
        if case .languageModel = configuration.search { arguments += ["-lm", model + "/en-us.lm.bin"] }
        // No second (flat-lexicon) pass: it re-decodes the whole utterance when it ends, 40–80 ms
        // for a 2 s sentence that a live utterance's user waits for, and on 12 espeak-ng sentences it
        // changed nothing (word error rate 79/102 both ways; README "Live voice").
        arguments += ["-fwdflat", "no"]
        var argv = arguments.map { strdup($0) }
        defer { argv.forEach { free($0) } }
        guard let config = cmd_ln_parse_r(nil, ps_args(), Int32(argv.count), &argv, 1) else {
            throw SpeechError(kind: .notConfigured, message: "pocketsphinx refused its arguments (model \(model))")
        }
        defer { cmd_ln_free_r(config) }
        guard let decoder = ps_init(config) else {
            throw SpeechError(kind: .notConfigured, message: "pocketsphinx could not load the model in \(model)")
        }
        do {
            try setUpSearch(configuration.search, in: decoder)
        } catch {
            ps_free(decoder)
            throw error
        }
        return decoder
    }

    private static func setUpSearch(_ search: PocketSphinxConfiguration.Search, in decoder: OpaquePointer) throws {
        let name = "hub"
        switch search {
        case .languageModel:
            return
        case .grammar(let jsgf):
            guard ps_set_jsgf_string(decoder, name, jsgf) == 0 else {
                throw SpeechError(kind: .notConfigured, message: "pocketsphinx could not load the JSGF grammar")
            }
        case .keywords(let phrases, let threshold):
            // pocketsphinx takes a keyword list only as a file: one "phrase /threshold/" a line.
            let list = phrases.map { "\($0.lowercased()) /\(threshold)/\n" }.joined()
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("hub-kws-\(UUID().uuidString).txt").path
            defer { try? FileManager.default.removeItem(atPath: path) }
            guard FileManager.default.createFile(atPath: path, contents: Data(list.utf8)), ps_set_kws(decoder, name, path) == 0 else {
                throw SpeechError(kind: .notConfigured, message: "pocketsphinx could not load the keyword list")
            }
        }
        guard ps_set_search(decoder, name) == 0 else {
            throw SpeechError(kind: .notConfigured, message: "pocketsphinx could not switch to its search")
        }
    }

    /// Recognizes one utterance of 16 kHz mono samples, fed in blocks of ``blockSamples`` with
    /// ±1 LSB of dither (exact digital silence throws the decoder off). `shouldStop` is asked before
    /// every block; when it returns an error the utterance is ended and that error thrown.
    func recognize(_ samples: [Int16], shouldStop: () -> (any Error)?) throws -> String {
        var utterance = try startUtterance()
        var start = 0
        while start < samples.count {
            if let error = shouldStop() {
                abandonUtterance()
                throw error
            }
            let end = min(start + Self.blockSamples, samples.count)
            do {
                try samples.withUnsafeBufferPointer { try process(UnsafeBufferPointer(rebasing: $0[start..<end]), in: &utterance) }
            } catch {
                abandonUtterance()
                throw error
            }
            start = end
        }
        return endUtterance()
    }

    /// The state of an utterance under way: its dither, and a block's worth of room.
    struct Utterance {
        fileprivate var dither = DitherSource()
        fileprivate var block = [Int16](repeating: 0, count: PocketSphinxDecoder.blockSamples)
    }

    /// Starts an utterance, with the cepstral mean back where the model set it and the front end's
    /// noise statistics reset (`ps_start_stream`; `ps_start_utt` alone keeps them from the
    /// utterances before): the result depends on the audio alone, not on what this decoder heard before.
    func startUtterance() throws -> Utterance {
        if !initialMean.isEmpty, let cmn = Self.liveMean(of: decoder) {
            initialMean.withUnsafeBufferPointer { cmn_live_set(cmn, $0.baseAddress) }
        }
        guard ps_start_stream(decoder) == 0, ps_start_utt(decoder) == 0 else {
            throw SpeechError.malformed("pocketsphinx could not start an utterance")
        }
        return Utterance()
    }

    /// Feeds up to ``blockSamples`` samples with dither. The same audio gives the same result only
    /// when it is fed in the same blocks (the live CMN updates its mean at block boundaries), so
    /// callers feed whole blocks from the utterance's start, and a shorter one only last.
    func process(_ samples: UnsafeBufferPointer<Int16>, in utterance: inout Utterance) throws {
        precondition(samples.count <= Self.blockSamples)
        for index in 0..<samples.count {
            utterance.block[index] = Int16(clamping: Int(samples[index]) + utterance.dither.next())
        }
        let processed = utterance.block.withUnsafeBufferPointer { ps_process_raw(decoder, $0.baseAddress, samples.count, 0, 0) }
        guard processed >= 0 else { throw SpeechError.malformed("pocketsphinx failed to process the audio") }
    }

    /// The best hypothesis so far, in the middle of an utterance.
    func partialHypothesis() -> String {
        hypothesis()
    }

    /// Ends the utterance; its transcript.
    func endUtterance() -> String {
        ps_end_utt(decoder)
        return hypothesis()
    }

    /// Ends the utterance, ignoring what was heard.
    func abandonUtterance() {
        ps_end_utt(decoder)
    }

    private func hypothesis() -> String {
        var score: Int32 = 0
        guard let hypothesis = ps_get_hyp(decoder, &score) else { return "" }
        // Keyword spotting separates its hits with two spaces.
        return String(cString: hypothesis).split(separator: " ").joined(separator: " ")
    }

    /// sphinxbase logs pages to stderr, even while parsing arguments; `err_set_logfp(NULL)` turns
    /// that off for the process (once). `-logfn /dev/null` is not passed: each ps_init would then
    /// close and reopen sphinxbase's one global log file (`err_set_logfile`) under decoders that
    /// may be logging on other threads.
    private static let silenceLogging: Void = { err_set_logfp(nil) }()

    private static let loading = Mutex(())
}

/// −1, 0 or +1 at random, cheaply (xorshift64*): dither for every sample of an utterance. Every
/// utterance starts from the same seed, so that the dither, like the result, depends on nothing but
/// the audio (a live recognition cannot know the length of what is coming).
private struct DitherSource {
    private var state: UInt64 = 0x9E37_79B9_7F4A_7C15

    mutating func next() -> Int {
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        return Int(((state &* 0x2545_F491_4F6C_DD1D) >> 33) % 3) - 1
    }
}
