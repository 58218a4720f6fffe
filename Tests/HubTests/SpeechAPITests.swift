// SPDX-License-Identifier: Apache-2.0
import Engine
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

@testable import Hub

/// The seed's speech routes against a real hub on loopback, with espeak-ng, PocketSphinx and
/// libsndfile in process: `POST /api/v1/tts/synthesize` and `POST /api/v1/asr/transcribe`.
@Suite(.timeLimit(.minutes(3)))
struct SpeechAPITests {
    // MARK: Synthesis

    @Test func synthesisSpeaksEnglishAsWAVAndNamesTheProvider() async throws {
        let configuration = try TestHub.configuration(upstream: nil, databasePath: TestHub.databasePath())
        try await TestHub.run(configuration) { _, client in
            let response = try await SpeechHTTP.synthesize(client, ["text": "hello world", "voice": "en-us"])
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "audio/wav")
            #expect(response.headers[HTTPField.Name("X-Speech-Provider")!] == "espeak")
            let audio = try AudioDecoder().decode(Array(response.body.readableBytesView))
            #expect((0.3...5).contains(audio.seconds), "\(audio.seconds) s")
            #expect(audio.channels == 1)
            #expect(audio.samples.contains { abs(Int($0)) > 1000 }, "silence")

            // Mandarin: a dozen syllables take a plausible time.
            let chinese = try await SpeechHTTP.synthesize(client, ["text": "你好，世界。今天天气很好。", "voice": "cmn"])
            #expect(chinese.status == .ok)
            let spoken = try AudioDecoder().decode(Array(chinese.body.readableBytesView))
            #expect((1...8).contains(spoken.seconds), "\(spoken.seconds) s")
        }
    }

    @Test func everyFormatHasItsTypeAndDecodesOrIsRefusedClearly() async throws {
        let configuration = try TestHub.configuration(upstream: nil, databasePath: TestHub.databasePath())
        try await TestHub.run(configuration) { _, client in
            for format in [AudioFormat.wav, .mp3, .ogg, .opus, .flac] {
                let response = try await SpeechHTTP.synthesize(client, ["text": "testing one two three", "format": .string(format.rawValue)])
                if AudioEncoder.canEncode(format) {
                    #expect(response.status == .ok, "\(format): \(String(buffer: response.body).prefix(300))")
                    #expect(response.headers[.contentType] == format.mediaType, "\(format)")
                    let audio = try AudioDecoder().decode(Array(response.body.readableBytesView))
                    #expect((0.5...5).contains(audio.seconds), "\(format): \(audio.seconds) s")
                } else {
                    SpeechHTTP.expectError(response, .badRequest, "\(format) cannot be written here")
                }
            }
            try await SpeechHTTP.expectServing(client)
        }
    }

    @Test func badSynthesisRequestsAreJSONErrorsAndTheHubKeepsServing() async throws {
        let configuration = try TestHub.configuration(upstream: nil, databasePath: TestHub.databasePath())
        try await TestHub.run(configuration) { _, client in
            let cases: [(String, String)] = [
                ("empty text", #"{"text":""}"#),
                ("blank text", #"{"text":"   \n "}"#),
                ("text over 4096 characters", "{\"text\":\"\(String(repeating: "a", count: 4097))\"}"),
                ("speed 0", #"{"text":"hi","speed":0}"#),
                ("speed 9", #"{"text":"hi","speed":9}"#),
                ("unknown format", #"{"text":"hi","format":"aiff"}"#),
                ("malformed JSON", #"{"text":"hi""#),
                ("not JSON", "text=hi"),
                ("text of the wrong type", #"{"text":5}"#),
                ("speed of the wrong type", #"{"text":"hi","speed":"fast"}"#),
                ("text missing", #"{"voice":"en-us"}"#),
                ("text null", #"{"text":null}"#),
            ]
            for (what, body) in cases {
                let response = try await SpeechHTTP.postJSON(client, "/api/v1/tts/synthesize", body)
                SpeechHTTP.expectError(response, .badRequest, what)
                try await SpeechHTTP.expectServing(client)
            }
            // A body that is JSON but no object is named as such, not as a field with no name.
            for body in [#"["hi"]"#, #""hi""#, "5", "null"] {
                let response = try await SpeechHTTP.postJSON(client, "/api/v1/tts/synthesize", body)
                SpeechHTTP.expectError(response, .badRequest, body)
                let message = (try? SpeechHTTP.json(response))?["error"]?["message"]?.stringValue ?? ""
                #expect(message.hasPrefix("The body must be a JSON object"), "\(body): \(message)")
            }
            // 4096 characters exactly are taken (OpenAI's limit is inclusive).
            let longest = try await SpeechHTTP.synthesize(client, ["text": .string(String(repeating: "ab ", count: 1365) + "a")])
            #expect(longest.status == .ok, "4096 characters: \(String(buffer: longest.body).prefix(200))")

            // Over server.max_body_bytes (1 MiB by default).
            let huge = "{\"text\":\"\(String(repeating: "a", count: 1_100_000))\"}"
            let tooLarge = try await SpeechHTTP.postJSON(client, "/api/v1/tts/synthesize", huge)
            SpeechHTTP.expectError(tooLarge, .contentTooLarge, "body over max_body_bytes")
            try await SpeechHTTP.expectServing(client)
        }
    }

    // MARK: Recognition

    @Test func theHubUnderstandsItsOwnVoiceAsFormAndAsBareBody() async throws {
        let configuration = try TestHub.configuration(upstream: nil, databasePath: TestHub.databasePath(), extra: SpeechHTTP.grammarSTT)
        try await TestHub.run(configuration) { _, client in
            let (wav, _) = try await SpeechHTTP.spokenSentence(client)
            let form = try await SpeechHTTP.transcribe(client, multipart: wav, filename: "speech.wav", contentType: "audio/wav")
            #expect(form.status == .ok, "\(String(buffer: form.body).prefix(300))")
            let formJSON = try SpeechHTTP.json(form)
            #expect(formJSON["text"] == .string(SpeechHTTP.sentence))
            #expect(formJSON["provider"] == "sphinx")
            #expect(formJSON["language"]?.stringValue?.hasPrefix("en") == true, "\(formJSON.compactJSON)")
            let duration = try #require(formJSON["duration"]?.doubleValue)
            #expect((1...5).contains(duration), "duration \(duration)")

            let bare = try await SpeechHTTP.transcribe(client, bare: wav)
            #expect(bare.status == .ok, "\(String(buffer: bare.body).prefix(300))")
            #expect(try SpeechHTTP.json(bare)["text"] == .string(SpeechHTTP.sentence))

            // The same audio twice gives the same words (recognition is deterministic).
            let again = try await SpeechHTTP.transcribe(client, bare: wav)
            #expect(try SpeechHTTP.json(again)["text"] == .string(SpeechHTTP.sentence))
        }
    }

    /// Rates, channels and containers all decode and are recognized. The exact sentence is
    /// expected where the audio is lossless at 16 kHz or above, some words from lossy codecs; 8 kHz
    /// (telephone) audio is only required to be taken: the en-us model is wideband and hears
    /// nothing in it (an empty transcript). The accuracy is printed in the test's output.
    @Test func ratesChannelsAndContainersAllTranscribe() async throws {
        let configuration = try TestHub.configuration(upstream: nil, databasePath: TestHub.databasePath(), extra: SpeechHTTP.grammarSTT)
        try await TestHub.run(configuration) { _, client in
            let (_, spoken) = try await SpeechHTTP.spokenSentence(client)
            let resampler = Resampler()
            var inputs: [(name: String, bytes: [UInt8], format: AudioFormat, exact: Bool)] = []
            for rate in [8000, 16000, 44100, 48000] {
                let mono = try resampler.resample(spoken, to: rate)
                inputs.append(("wav \(rate) Hz mono", try AudioEncoder().encode(mono, as: .wav), .wav, rate >= 16000))
                inputs.append(("wav \(rate) Hz stereo", try AudioEncoder().encode(SpeechHTTP.stereo(mono), as: .wav), .wav, rate >= 16000))
            }
            for format in [AudioFormat.flac, .ogg, .mp3, .opus] where AudioEncoder.canEncode(format) {
                inputs.append(("\(format)", try AudioEncoder().encode(spoken, as: format), format, format == .flac))
            }
            var report = [String]()
            for input in inputs {
                let response = try await SpeechHTTP.transcribe(
                    client, multipart: input.bytes, filename: "speech.\(input.format.fileExtension)", contentType: input.format.mediaType)
                #expect(response.status == .ok, "\(input.name): \(String(buffer: response.body).prefix(300))")
                let text = try SpeechHTTP.json(response)["text"]?.stringValue ?? ""
                report.append("\(input.name): \(text == SpeechHTTP.sentence ? "exact" : "got \"\(text)\"")")
                if !input.name.contains("8000 Hz") { #expect(!text.isEmpty, "\(input.name): empty transcript") }
                if input.exact { #expect(text == SpeechHTTP.sentence, "\(input.name)") }
            }
            print("speech recognition accuracy:\n  " + report.joined(separator: "\n  "))
        }
    }

    @Test func unusableAudioIsA400AndTheHubKeepsServing() async throws {
        let configuration = try TestHub.configuration(upstream: nil, databasePath: TestHub.databasePath(), extra: SpeechHTTP.grammarSTT)
        try await TestHub.run(configuration) { _, client in
            let (wav, _) = try await SpeechHTTP.spokenSentence(client)
            var wrongHeader = wav
            wrongHeader.replaceSubrange(0..<4, with: Array("RIFX".utf8))
            var notWave = wav
            notWave.replaceSubrange(8..<12, with: Array("AVI ".utf8))
            let tenHours = UInt32(10 * 3600 * 16000)
            let cases: [(String, [UInt8])] = [
                ("header cut short", Array(wav.prefix(30))),
                ("truncated halfway through its samples", Array(wav.prefix(wav.count / 2))),
                ("header only, no samples", Array(wav.prefix(44))),
                ("wrong magic", wrongHeader),
                ("not WAVE", notWave),
                ("garbage", SpeechHTTP.noise(count: 4096, seed: 1)),
                ("10 hours claimed on 1 KB", SpeechHTTP.wav(claimingFrames: tenHours, payload: SpeechHTTP.noise(count: 980, seed: 2))),
            ]
            for (what, bytes) in cases {
                let bare = try await SpeechHTTP.transcribe(client, bare: bytes)
                SpeechHTTP.expectError(bare, .badRequest, "\(what) (bare)")
                let form = try await SpeechHTTP.transcribe(client, multipart: bytes, filename: "x.wav", contentType: "audio/wav")
                SpeechHTTP.expectError(form, .badRequest, "\(what) (form)")
                try await SpeechHTTP.expectServing(client)
            }
            let empty = try await SpeechHTTP.transcribe(client, bare: [])
            SpeechHTTP.expectError(empty, .badRequest, "zero-length body")
            let emptyFile = try await SpeechHTTP.transcribe(client, multipart: [], filename: "x.wav", contentType: "audio/wav")
            SpeechHTTP.expectError(emptyFile, .badRequest, "zero-length file")
            let noFile = SpeechHTTP.form(file: wav, filename: "x.wav", contentType: "audio/wav")
            let renamed = try await SpeechHTTP.post(
                client, "/api/v1/asr/transcribe", contentType: noFile.contentType,
                body: Array(String(decoding: noFile.body, as: UTF8.self).replacingOccurrences(of: "name=\"file\"", with: "name=\"audio\"").utf8))
            SpeechHTTP.expectError(renamed, .badRequest, "form without a file part")
            let text = try await SpeechHTTP.post(client, "/api/v1/asr/transcribe", contentType: "text/plain", body: Array("hello".utf8))
            SpeechHTTP.expectError(text, .unsupportedMediaType, "text/plain body")
            try await SpeechHTTP.expectServing(client)
        }
    }

    @Test func anUploadOverTheLimitIs413AndTheHubKeepsServing() async throws {
        let configuration = try TestHub.configuration(upstream: nil, databasePath: TestHub.databasePath())
        try await TestHub.run(configuration) { port, client in
            let connection = try await RawConnection.open(port: port)
            defer { connection.close() }
            let total = 100 << 20
            await connection.send(
                "POST /api/v1/asr/transcribe HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: audio/wav\r\nContent-Length: \(total)\r\n\r\n")
            let chunk = [UInt8](repeating: 0, count: 1 << 20)
            var sent = 0
            // Until the hub answers (or stops reading): it may take the whole body or close early.
            while sent < total, HTTPAnswer.complete(in: connection.received).isEmpty, await connection.send(chunk) {
                sent += chunk.count
            }
            let answer = try #require(try await connection.waitForAnswers(1, timeout: .seconds(30)).first)
            #expect(answer.status == 413, "\(answer)")
            #expect(answer.error?.message.isEmpty == false, "\(answer)")
            try await SpeechHTTP.expectServing(client)
            let (wav, _) = try await SpeechHTTP.spokenSentence(client, "still here")
            #expect(!wav.isEmpty)
        }
    }

    // MARK: Health

    @Test func healthAndReadyReportSpeech() async throws {
        let configuration = try TestHub.configuration(upstream: nil, databasePath: TestHub.databasePath())
        try await TestHub.run(configuration) { _, client in
            let health = try await client.execute(uri: "/api/health", method: .get)
            let json = try SpeechHTTP.json(health)
            #expect(json["services"]?["tts"] == "healthy", "\(json.compactJSON)")
            #expect(json["services"]?["stt"] == "healthy", "\(json.compactJSON)")
            #expect(json["details"]?["tts"]?.stringValue?.contains("usable") == true)
            #expect(json["details"]?["stt"]?.stringValue?.contains("usable") == true)
            let ready = try await client.execute(uri: "/ready", method: .get)
            let checks = try SpeechHTTP.json(ready)["checks"]
            #expect(checks?["tts"] == "1 route usable", "\(checks?.compactJSON ?? "")")
            #expect(checks?["stt"] == "1 route usable", "\(checks?.compactJSON ?? "")")
        }
        // Without any synthesizer: unhealthy speech, but the hub's own status does not depend on it.
        let without = try TestHub.configuration(upstream: nil, databasePath: TestHub.databasePath(), extra: "tts: { providers: [] }")
        try await TestHub.run(without) { _, client in
            let json = try SpeechHTTP.json(try await client.execute(uri: "/api/health", method: .get))
            #expect(json["services"]?["tts"] == "unhealthy", "\(json.compactJSON)")
            #expect(json["details"]?["tts"] == "no speech synthesizer configured")
            let response = try await SpeechHTTP.synthesize(client, ["text": "hi"])
            SpeechHTTP.expectError(response, .serviceUnavailable, "no synthesizer")
        }
    }
}
