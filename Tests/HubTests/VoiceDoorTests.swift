// SPDX-License-Identifier: Apache-2.0
import Adapters
import Engine
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import NIOWebSocket
import Testing

@testable import Hub

/// The live voice door end to end, as a xiaozhi device speaks to it over a real WebSocket: espeak-ng
/// speech encoded to Opus frames goes up, the real PocketSphinx (with a grammar) recognizes it, the
/// answer streams from an upstream on loopback sentence by sentence, the real espeak-ng speaks each
/// sentence and the frames come back as Opus the test decodes with libopus.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct VoiceDoorTests {
    static let token = "v0ice"
    static let sentence = "hello world what time is it"
    static let grammar = "#JSGF V1.0; grammar hub; public <command> = hello world what time is it | turn on the kitchen light | good morning;"

    /// 16 kHz mono samples of espeak-ng saying `text`, with `lead` and `tail` seconds of silence.
    static func speech(_ text: String, lead: Double = 0.3, tail: Double = 0.9) async throws -> PCMAudio {
        let spoken = try await ESpeakSynthesizer().synthesize(SpeechRequest(text: text, voice: "en-us"), deadline: nil)
        let pcm = try Resampler().resample(try SpeechAudio.pcm(from: spoken), to: 16_000)
        let silence = { (seconds: Double) in [Int16](repeating: 0, count: Int(seconds * 16_000)) }
        return PCMAudio(samples: silence(lead) + pcm.samples + silence(tail), sampleRate: 16_000)
    }

    /// The Opus packets (60 ms frames) of `audio`.
    static func opusPackets(_ audio: PCMAudio) throws -> [[UInt8]] {
        try OpusCodec(sampleRate: 16_000, frameMilliseconds: 60).encode(audio)
    }

    /// Runs a hub whose voice door takes ``token``, with PocketSphinx on ``grammar`` and `upstream`.
    func withVoiceHub(
        _ upstream: SentenceUpstream = SentenceUpstream(), voice: String = "",
        _ body: @escaping @Sendable (_ port: Int, _ client: any TestClientProtocol) async throws -> Void
    ) async throws {
        try await upstream.run { base in
            let extra = """
                stt: { providers: [ { name: sphinx, kind: pocketsphinx, pool_size: 2, grammar: "\(Self.grammar)" } ] }
                voice: { access_token: \(Self.token)\(voice) }
                """
            let configuration = try TestHub.configuration(upstream: base, databasePath: TestHub.databasePath(), extra: extra)
            try await TestHub.run(configuration) { port, client in try await body(port, client) }
        }
    }

    /// Connects a device and completes the hello; returns it with its session id.
    func connectedDevice(
        port: Int, version: Int = 1, format: String = "opus", deviceID: String = "aa:bb:cc:dd:ee:01"
    ) async throws -> (FakeVoiceDevice, Task<Void, Never>, String) {
        let (device, task) = FakeVoiceDevice.connect(port: port, headers: FakeVoiceDevice.headers(token: Self.token, version: version, deviceID: deviceID))
        device.hello(version: version, format: format)
        let hello = try await device.message("hello")
        let sessionID = try #require(hello["session_id"]?.stringValue)
        return (device, task, sessionID)
    }

    /// Says `packets` in manual listening: `listen start`, the frames, `listen stop`.
    func say(_ packets: [[UInt8]], to device: FakeVoiceDevice, version: Int = 1) {
        device.listen("start", mode: "manual")
        let framing = VoiceBinaryFrame.Version(rawValue: version) ?? .v1
        for packet in packets { device.sendBinary(VoiceBinaryFrame(payload: packet).bytes(version: framing)) }
        device.listen("stop")
    }

    @Test func aDeviceIsAnsweredSentenceBySentenceWithPacedOpusAndASecondTurnRemembersTheFirst() async throws {
        let packets = try Self.opusPackets(try await Self.speech(Self.sentence))
        let upstream = SentenceUpstream()
        try await withVoiceHub(upstream) { (port: Int, _: any TestClientProtocol) async throws in
            let (device, task, sessionID) = try await connectedDevice(port: port)
            let hello = device.messages[0]
            #expect(hello["transport"] == "websocket")
            #expect(hello["audio_params"]?["format"] == "opus")
            #expect(hello["audio_params"]?["sample_rate"] == 24_000)
            #expect(hello["audio_params"]?["channels"] == 1)
            #expect(hello["audio_params"]?["frame_duration"] == 60)
            #expect(!sessionID.isEmpty)

            say(packets, to: device)
            let stt = try await device.message("stt")
            #expect(stt["text"]?.stringValue == Self.sentence)
            #expect(stt["session_id"]?.stringValue == sessionID)
            try await device.message("tts", state: "stop")

            let messages = device.messages
            let sentences = messages.filter { $0["type"] == "tts" && $0["state"] == "sentence_start" }.compactMap { $0["text"]?.stringValue }
            #expect(sentences == ["It is noon.", "The sun is up.", "Have a nice day."])
            #expect(messages.contains { $0["type"] == "llm" && $0["emotion"] == "happy" })
            // Order: tts start before the first frame, tts stop after the last.
            let timeline = device.timeline
            let start = try #require(timeline.firstIndex { if case .message(let m) = $0.0 { m["type"] == "tts" && m["state"] == "start" } else { false } })
            let stop = try #require(timeline.firstIndex { if case .message(let m) = $0.0 { m["type"] == "tts" && m["state"] == "stop" } else { false } })
            let audioIndices = timeline.indices.filter { timeline[$0].0.isAudio }
            let first = try #require(audioIndices.first)
            let last = try #require(audioIndices.last)
            #expect(start < first && last < stop)
            // Every frame is one 60 ms Opus packet at the announced 24 kHz.
            let decoder = try OpusCodec(sampleRate: 24_000, frameMilliseconds: 60)
            let frames = device.audio
            for frame in frames { #expect(try decoder.decode(packet: frame.bytes).count == 1_440) }
            // Paced at real time: after the first five (300 ms of lead) one per 60 ms, so the last
            // arrives no sooner than the audio before it lasts, less the lead.
            let played = Duration.milliseconds(60 * (frames.count - 5))
            #expect(frames.count > 20)
            #expect(frames[frames.count - 1].at - frames[0].at >= played * 0.8)

            // The second turn carries the first in its history.
            let before = device.messages.count
            say(packets, to: device)
            try await device.message("tts", state: "stop", after: before)
            let second = try #require(upstream.requests.last)
            #expect(second.contains { $0.role == "user" && $0.content == Self.sentence })
            #expect(second.contains { $0.role == "assistant" && $0.content == upstream.answer })
            #expect(second.filter { $0.role == "user" }.count == 2)
            device.close()
            await task.value
        }
    }

    @Test func anAbortStopsTheFramesAtOnceCancelsTheUpstreamAndStoresNothingOfTheTurn() async throws {
        let packets = try Self.opusPackets(try await Self.speech(Self.sentence))
        // The model writes a sentence every 1.5 s: the first is playing while the second is awaited.
        let upstream = SentenceUpstream(pieces: ["It is noon. ", "The sun is up. ", "Have a nice day."], pause: .milliseconds(1500))
        try await withVoiceHub(upstream) { (port: Int, _: any TestClientProtocol) async throws in
            let (device, task, _) = try await connectedDevice(port: port)
            say(packets, to: device)
            try await device.message("tts", state: "sentence_start")
            // Wait for the first answer frame, then interrupt.
            let deadline = ContinuousClock.now + .seconds(20)
            while device.audio.isEmpty, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(2)) }
            let abortedAt = ContinuousClock.now
            let before = device.messages.count
            device.abort()
            try await device.message("tts", state: "stop", after: before)
            // A marker answered after the abort's tts stop: no frame may come between them.
            device.send(["type": "ping"])
            try await device.message("pong", after: before)
            let timeline = device.timeline
            let stopIndex = try #require(
                timeline.lastIndex { if case .message(let m) = $0.0 { m["type"] == "tts" && m["state"] == "stop" } else { false } })
            let lateFrames = timeline[(stopIndex + 1)...].filter(\.0.isAudio)
            #expect(lateFrames.isEmpty)
            let lastFrame = try #require(device.audio.last)
            #expect(lastFrame.at - abortedAt < .milliseconds(100))
            // The model's request was cancelled, and the turn left nothing in the history.
            try await eventually("the upstream stream was cut", timeout: .seconds(10)) { upstream.abandonedStreams == 1 }
            let next = device.messages.count
            say(packets, to: device)
            try await device.message("stt", after: next)
            try await eventually("the second request", timeout: .seconds(10)) { upstream.requests.count == 2 }
            let second = upstream.requests[1]
            #expect(!second.contains { $0.role == "assistant" })
            #expect(second.filter { $0.role == "user" }.count == 1)
            device.close()
            await task.value
        }
    }

    @Test(arguments: [2, 3])
    func protocolVersionsTwoAndThreeFrameTheAudioBothWays(version: Int) async throws {
        let packets = try Self.opusPackets(try await Self.speech(Self.sentence))
        try await withVoiceHub { (port: Int, _: any TestClientProtocol) async throws in
            let (device, task, _) = try await connectedDevice(port: port, version: version)
            say(packets, to: device, version: version)
            #expect(try await device.message("stt")["text"]?.stringValue == Self.sentence)
            try await device.message("tts", state: "stop")
            let decoder = try OpusCodec(sampleRate: 24_000, frameMilliseconds: 60)
            let framing = try #require(VoiceBinaryFrame.Version(rawValue: version))
            #expect(!device.audio.isEmpty)
            for frame in device.audio {
                let unwrapped = try VoiceBinaryFrame(decoding: frame.bytes, version: framing)
                #expect(try decoder.decode(packet: unwrapped.payload).count == 1_440)
            }
            device.close()
            await task.value
        }
    }

    @Test func theBrowserVariantSendsAndReceivesRawPCM() async throws {
        let audio = try await Self.speech(Self.sentence)
        try await withVoiceHub { (port: Int, _: any TestClientProtocol) async throws in
            let (device, task, _) = try await connectedDevice(port: port, format: "pcm16", deviceID: "browser-7f3a")
            #expect(device.messages[0]["audio_params"]?["format"] == "pcm16")
            device.listen("start", mode: "manual")
            var start = 0
            while start < audio.samples.count {
                let end = min(audio.samples.count, start + 960)
                var bytes = [UInt8]()
                for sample in audio.samples[start..<end] {
                    bytes.append(UInt8(truncatingIfNeeded: UInt16(bitPattern: sample)))
                    bytes.append(UInt8(truncatingIfNeeded: UInt16(bitPattern: sample) >> 8))
                }
                device.sendBinary(bytes)
                start = end
            }
            device.listen("stop")
            #expect(try await device.message("stt")["text"]?.stringValue == Self.sentence)
            try await device.message("tts", state: "stop")
            #expect(!device.audio.isEmpty)
            // 60 ms of 24 kHz 16-bit mono per frame.
            for frame in device.audio { #expect(frame.bytes.count == 2_880) }
            device.close()
            await task.value
        }
    }

    @Test func upgradesAreRefusedWithoutTheTokenOrForAnotherDevice() async throws {
        try await withVoiceHub(voice: ", allowed_devices: [ \"AA:BB:CC:DD:EE:01\" ]") { (port: Int, _: any TestClientProtocol) async throws in
            let device = [("Device-Id", "aa:bb:cc:dd:ee:01"), ("Protocol-Version", "1")]
            #expect(try await webSocketUpgrade(port: port, path: "/xiaozhi/v1/", headers: device).0 == 401)
            #expect(try await webSocketUpgrade(port: port, path: "/ws/voice", headers: device + [("Authorization", "Bearer nope")]).0 == 403)
            let other = [("Device-Id", "aa:bb:cc:dd:ee:02"), ("Authorization", "Bearer \(Self.token)")]
            #expect(try await webSocketUpgrade(port: port, path: "/xiaozhi/v1/", headers: other).0 == 403)
            let noDevice = [("Authorization", "Bearer \(Self.token)")]
            #expect(try await webSocketUpgrade(port: port, path: "/xiaozhi/v1/", headers: noDevice).0 == 400)
            let badVersion = device + [("Authorization", "Bearer \(Self.token)"), ("Protocol-Version", "7")]
            #expect(try await webSocketUpgrade(port: port, path: "/xiaozhi/v1/", headers: badVersion).0 == 400)
            // A browser: token and device in the query; a page elsewhere may not use the door.
            #expect(try await webSocketUpgrade(port: port, path: "/ws/voice?token=\(Self.token)&device-id=AA:BB:CC:DD:EE:01").0 == 101)
            let page = "/ws/voice?token=\(Self.token)&device-id=AA:BB:CC:DD:EE:01"
            #expect(try await webSocketUpgrade(port: port, path: page, headers: [("Origin", "https://evil.example")]).0 == 403)
            #expect(try await webSocketUpgrade(port: port, path: page, headers: [("Origin", "http://127.0.0.1:\(port)")]).0 == 101)
        }
    }

    @Test func malformedInputGetsAnErrorAndTheSessionGoesOn() async throws {
        let packets = try Self.opusPackets(try await Self.speech(Self.sentence))
        try await withVoiceHub { (port: Int, _: any TestClientProtocol) async throws in
            let (device, task) = FakeVoiceDevice.connect(port: port, headers: FakeVoiceDevice.headers(token: Self.token))
            // Audio before the hello, text that is not JSON, a message without a type, an unknown type.
            device.sendBinary([1, 2, 3])
            try await device.message("error") { _ in true }
            #expect(device.messages.last?["code"] == "audio_before_hello")
            device.sendText("not json")
            device.sendText(#"{"no_type":1}"#)
            device.sendText(#"{"type":"teleport"}"#)
            device.hello()
            let hello = try await device.message("hello")
            let errors = device.messages.filter { $0["type"] == "error" }.compactMap { $0["code"]?.stringValue }
            #expect(errors == ["audio_before_hello", "bad_message", "bad_message"])
            #expect(hello["session_id"] != nil)
            // Garbage Opus in the middle of an utterance: refused frames, the utterance still heard.
            device.listen("start", mode: "manual")
            device.sendBinary([0xFF, 0xFF, 0xFF, 0xFF, 0xFF])
            for packet in packets { device.sendBinary(packet) }
            device.listen("stop")
            #expect(try await device.message("stt")["text"]?.stringValue == Self.sentence)
            // An mcp request is answered as unknown; the session goes on.
            device.send(["type": "mcp", "payload": ["jsonrpc": "2.0", "id": 9, "method": "tools/call"]])
            let mcp = try await device.message("mcp")
            #expect(mcp["payload"]?["error"]?["code"] == -32601)
            device.close()
            await task.value
        }
    }

    @Test func aClientThatSendsNoHelloIsClosed() async throws {
        try await withVoiceHub(voice: ", hello_timeout: 0.5") { (port: Int, _: any TestClientProtocol) async throws in
            let (device, task) = FakeVoiceDevice.connect(port: port, headers: FakeVoiceDevice.headers(token: Self.token))
            try await device.waitUntilEnded(timeout: .seconds(10))
            #expect(device.closeCode == .policyViolation)
            #expect(device.messages.contains { $0["type"] == "error" && $0["code"] == "hello_timeout" })
            await task.value
        }
    }

    @Test func badAudioParamsCloseTheConnectionWithAReason() async throws {
        try await withVoiceHub { (port: Int, _: any TestClientProtocol) async throws in
            let (device, task) = FakeVoiceDevice.connect(port: port, headers: FakeVoiceDevice.headers(token: Self.token))
            device.send([
                "type": "hello", "version": 1, "transport": "websocket",
                "audio_params": ["format": "mp3", "sample_rate": 16000, "channels": 1, "frame_duration": 60],
            ])
            try await device.waitUntilEnded()
            #expect(device.closeCode == .unacceptableData)
            #expect(device.messages.contains { $0["type"] == "error" && $0["code"] == "bad_audio_params" })
            await task.value
        }
    }

    @Test func inAutoListeningTheSilenceAfterSpeechEndsTheUtterance() async throws {
        // Speech, then 0.9 s of silence: more than the 500 ms that ends an utterance.
        let packets = try Self.opusPackets(try await Self.speech(Self.sentence))
        try await withVoiceHub { (port: Int, _: any TestClientProtocol) async throws in
            let (device, task, _) = try await connectedDevice(port: port)
            device.listen("start", mode: "auto")
            for packet in packets { device.sendBinary(packet) }
            #expect(try await device.message("stt")["text"]?.stringValue == Self.sentence)
            try await device.message("tts", state: "stop")
            #expect(!device.audio.isEmpty)
            device.close()
            await task.value
        }
    }

    @Test func inRealtimeListeningSpeakingOverTheAnswerInterruptsIt() async throws {
        let speech = try await Self.speech(Self.sentence)
        let packets = try Self.opusPackets(speech)
        // A slow model: the first sentence plays while the rest is awaited.
        let upstream = SentenceUpstream(pieces: ["It is noon. ", "The sun is up. ", "Have a nice day."], pause: .milliseconds(1500))
        try await withVoiceHub(upstream) { (port: Int, _: any TestClientProtocol) async throws in
            let (device, task, _) = try await connectedDevice(port: port)
            device.listen("start", mode: "realtime")
            // The device streams at real time in realtime listening.
            for packet in packets {
                device.sendBinary(packet)
                try await Task.sleep(for: .milliseconds(60))
            }
            try await device.message("stt")
            let deadline = ContinuousClock.now + .seconds(20)
            while device.audio.isEmpty, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
            let before = device.messages.count
            // The user speaks again over the answer: it stops at once, and the new utterance is answered.
            for packet in packets {
                device.sendBinary(packet)
                try await Task.sleep(for: .milliseconds(60))
            }
            try await device.message("tts", state: "stop", after: before)
            try await device.message("stt", after: before)
            try await eventually("the first answer's request was cut", timeout: .seconds(10)) { upstream.abandonedStreams >= 1 }
            device.close()
            await task.value
        }
    }

    @Test func aClientSendingFasterThanRealTimeIsClosed() async throws {
        let packets = try Self.opusPackets(PCMAudio(samples: [Int16](repeating: 0, count: 16_000 * 8), sampleRate: 16_000))
        try await withVoiceHub { (port: Int, _: any TestClientProtocol) async throws in
            let (device, task, _) = try await connectedDevice(port: port)
            device.listen("start", mode: "auto")
            for packet in packets { device.sendBinary(packet) }  // 8 s of audio at once
            try await device.waitUntilEnded()
            #expect(device.closeCode == .policyViolation)
            #expect(device.messages.contains { $0["type"] == "error" && $0["code"] == "too_fast" })
            await task.value
        }
    }

    @Test func anIdleClientIsClosed() async throws {
        try await withVoiceHub(voice: ", idle_timeout: 0.5") { (port: Int, _: any TestClientProtocol) async throws in
            let (device, task, _) = try await connectedDevice(port: port)
            try await device.waitUntilEnded()
            #expect(device.closeCode == .normalClosure)
            await task.value
        }
    }

    @Test func aDeviceConnectsWithWhatTheOTACheckToldIt() async throws {
        let packets = try Self.opusPackets(try await Self.speech(Self.sentence))
        try await withVoiceHub(voice: ", protocol_version: 3") { (port: Int, client: any TestClientProtocol) async throws in
            // The device's OTA check, as its firmware makes it, with the Host it reached the hub by.
            let answer = try await VoiceOTATests.check(client, headers: VoiceOTATests.deviceHeaders([("X-Forwarded-Host", "127.0.0.1:\(port)")]))
            #expect(answer.status == .ok)
            let websocket = try #require(answer.json["websocket"])
            let url = try #require(websocket["url"]?.stringValue)
            let token = try #require(websocket["token"]?.stringValue)
            let version = try #require(websocket["version"]?.int64Value)
            #expect(url == "ws://127.0.0.1:\(port)/xiaozhi/v1/")
            #expect(token == Self.token)
            #expect(version == 3)
            // It then opens that URL with that token and speaks protocol version 3.
            let path = String(url.dropFirst("ws://127.0.0.1:\(port)".count))
            let (device, task) = FakeVoiceDevice.connect(
                port: port, path: path, headers: FakeVoiceDevice.headers(token: token, version: Int(version), deviceID: VoiceOTATests.deviceID))
            device.hello(version: Int(version))
            try await device.message("hello")
            say(packets, to: device, version: Int(version))
            #expect(try await device.message("stt")["text"]?.stringValue == Self.sentence)
            try await device.message("tts", state: "stop")
            let first = try #require(device.audio.first)
            #expect(try VoiceBinaryFrame(decoding: first.bytes, version: .v3).payload.count > 0)
            device.close()
            await task.value
        }
    }

    @Test func beyondMaxSessionsTheUpgradeIsRefused() async throws {
        try await withVoiceHub(voice: ", max_sessions: 1") { (port: Int, _: any TestClientProtocol) async throws in
            let (device, task, _) = try await connectedDevice(port: port)
            let headers = [("Device-Id", "aa:bb:cc:dd:ee:02"), ("Authorization", "Bearer \(Self.token)")]
            #expect(try await webSocketUpgrade(port: port, path: "/xiaozhi/v1/", headers: headers).0 == 503)
            device.close()
            await task.value
            // Once the first has gone, there is room again (as soon as its connection has been counted out).
            var status: UInt = 0
            for _ in 0..<100 {
                status = try await webSocketUpgrade(port: port, path: "/xiaozhi/v1/", headers: headers).0
                if status == 101 { break }
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(status == 101)
        }
    }

    @Test func thePagesMicrophoneSpeaksInThePagesOwnWebSession() async throws {
        let packets = try Self.opusPackets(try await Self.speech(Self.sentence))
        let upstream = SentenceUpstream()
        try await withVoiceHub(upstream) { (port: Int, _: any TestClientProtocol) async throws in
            let (device, task, _) = try await connectedDevice(port: port, deviceID: "web-client42")
            say(packets, to: device)
            try await device.message("tts", state: "stop")
            device.close()
            await task.value
            // The web page of client42 finds the spoken turn in its history.
            let (page, pageTask) = WebChatClient.connect(port: port, path: "/ws/chat/client42")
            let history = try await page.history()
            let messages = history["messages"]?.arrayValue ?? []
            #expect(messages.contains { $0["role"] == "user" && $0["content"]?.stringValue == Self.sentence })
            #expect(messages.contains { $0["role"] == "assistant" && $0["content"]?.stringValue == upstream.answer })
            page.close()
            _ = try? await pageTask.value
        }
    }
}
