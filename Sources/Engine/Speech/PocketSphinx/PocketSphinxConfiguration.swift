// SPDX-License-Identifier: Apache-2.0
import Foundation

/// How a ``PocketSphinxRecognizer`` recognizes: its model, what it listens for, and how many
/// recognitions it runs at once.
public struct PocketSphinxConfiguration: Sendable, Hashable {
    /// What the decoder searches the audio for.
    public enum Search: Sendable, Hashable {
        /// Free speech through the model's statistical language model (`en-us.lm.bin`): any
        /// sentence, often the wrong words on synthetic or noisy speech.
        case languageModel
        /// Only the sentences a JSGF grammar allows (the grammar's text, e.g.
        /// `#JSGF V1.0; grammar hub; public <command> = what time is it | hello world;`): exact when the speech is one of them.
        case grammar(jsgf: String)
        /// Keyword spotting: the transcript lists the phrases heard (each in the dictionary),
        /// with a detection threshold (smaller misses less and invents more; 1e-20 is a common start).
        case keywords([String], threshold: Double = 1e-20)
    }

    /// The name the recognizer reports.
    public var name: String
    /// A pocketsphinx model folder holding `en-us/` (the acoustic model), `en-us.lm.bin` and
    /// `cmudict-en-us.dict`.
    public var modelDirectory: String
    public var search: Search
    /// Decoders, each with its own thread, so recognitions at once (a decoder with the language
    /// model holds about 90 MB and takes 0.3 s to load; Benchmarks/README.md).
    public var poolSize: Int
    /// Recognitions that may wait for a decoder; past that a request is refused as busy.
    public var maxWaiting: Int
    /// Bounds on the audio accepted.
    public var limits: AudioLimits

    public init(
        name: String = "pocketsphinx", modelDirectory: String = Self.defaultModelDirectory, search: Search = .languageModel,
        poolSize: Int = 2, maxWaiting: Int = 8, limits: AudioLimits = .default
    ) {
        self.name = name
        self.modelDirectory = modelDirectory
        self.search = search
        self.poolSize = max(1, poolSize)
        self.maxWaiting = max(0, maxWaiting)
        self.limits = limits
    }

    /// The installed US English model: `pkg-config --variable=modeldir pocketsphinx` + `/en-us`
    /// when pkg-config answers, else Debian's `/usr/share/pocketsphinx/model/en-us`.
    public static let defaultModelDirectory: String = {
        if let base = pkgConfigModelDirectory(), FileManager.default.fileExists(atPath: base + "/en-us/en-us") {
            return base + "/en-us"
        }
        return "/usr/share/pocketsphinx/model/en-us"
    }()

    private static func pkgConfigModelDirectory() -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["pkg-config", "--variable=modeldir", "pocketsphinx"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return nil }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        let path = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return path.isEmpty ? nil : path
    }
}
