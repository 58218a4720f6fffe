// SPDX-License-Identifier: Apache-2.0
import Adapters
import Engine
import Foundation
import HummingbirdTesting
import Testing

@testable import Hub

/// Many devices at once against remote speech services (fakes on loopback) and an upstream:
/// every turn of every device is answered.
@Suite(.timeLimit(.minutes(2)))
struct VoiceLoadTests {
    @Test func twentyDevicesAtOnceAreAllAnswered() async throws {
        let devices = 20
        let speech = RemoteSpeechService(transcript: "what is the weather like")
        let upstream = SentenceUpstream(pieces: ["It is sunny. ", "Take a hat."], pause: .milliseconds(20))
        // Any audio will do: the remote recognizer answers the same transcript for all of it.
        let packets = try VoiceDoorTests.opusPackets(try await VoiceDoorTests.speech("good morning", lead: 0.1, tail: 0.1))
        try await speech.run { speechBase in
            try await upstream.run { base in
                let extra = """
                    stt: { providers: [ { name: remote, kind: openai, base_url: "\(speechBase)", timeout: 10 } ] }
                    tts: { providers: [ { name: remote, kind: openai, base_url: "\(speechBase)", timeout: 10 } ] }
                    lanes: { cpu: { max_concurrent: 8, queue: 256 } }
                    voice: { access_token: \(VoiceDoorTests.token) }
                    """
                let configuration = try TestHub.configuration(upstream: base, databasePath: TestHub.databasePath(), extra: extra)
                try await TestHub.run(configuration) { (port: Int, _: any TestClientProtocol) async throws in
                    try await withThrowingTaskGroup(of: Int.self) { group in
                        for index in 0..<devices {
                            group.addTask {
                                let id = String(format: "aa:bb:cc:dd:%02x:%02x", index / 256, index % 256)
                                let (device, task) = FakeVoiceDevice.connect(
                                    port: port, headers: FakeVoiceDevice.headers(token: VoiceDoorTests.token, deviceID: id))
                                device.hello()
                                try await device.message("hello", timeout: .seconds(60))
                                var answered = 0
                                for _ in 0..<2 {
                                    let before = device.messages.count
                                    device.listen("start", mode: "manual")
                                    for packet in packets { device.sendBinary(packet) }
                                    device.listen("stop")
                                    let stt = try await device.message("stt", after: before, timeout: .seconds(60))
                                    #expect(stt["text"] == "what is the weather like")
                                    try await device.message("tts", state: "stop", after: before, timeout: .seconds(60))
                                    let sentences = device.messages.dropFirst(before).filter { $0["state"] == "sentence_start" }
                                    #expect(sentences.compactMap { $0["text"]?.stringValue } == ["It is sunny.", "Take a hat."])
                                    answered += 1
                                }
                                #expect(device.audio.count >= 2 * 2 * 10)  // two turns of two 0.6 s sentences, 60 ms frames
                                device.close()
                                await task.value
                                return answered
                            }
                        }
                        var total = 0
                        for try await answered in group { total += answered }
                        #expect(total == devices * 2)
                    }
                }
            }
        }
        #expect(speech.transcriptionRequests == devices * 2)
        #expect(speech.synthesisRequests == devices * 2 * 2)
        // The same question with the same history is answered from the response cache after the
        // first time, so the upstream sees fewer requests than there were turns.
        #expect(upstream.requests.count >= 2)
    }
}
