// SPDX-License-Identifier: Apache-2.0
import Foundation
import Testing

@testable import Adapters

struct VoiceAudioParamsTests {
    @Test func decodesADeviceHelloParams() throws {
        let json = #"{"format":"opus","sample_rate":16000,"channels":1,"frame_duration":60}"#
        let params = try JSONDecoder().decode(VoiceAudioParams.self, from: Data(json.utf8))
        #expect(params == .device)
        #expect(params.knownFormat == .opus)
        #expect(params.samplesPerFrame == 960)
        #expect(params.isAcceptable)
    }

    @Test func encodesAllFourFieldsInSnakeCase() throws {
        let data = try JSONEncoder().encode(VoiceAudioParams(format: .opus, sampleRate: 24_000))
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(object.count == 4)
        #expect(object["format"] as? String == "opus")
        #expect(object["sample_rate"] as? Int == 24_000)
        #expect(object["channels"] as? Int == 1)
        #expect(object["frame_duration"] as? Int == 60)
    }

    @Test func aMissingFieldIsADecodingError() {
        let json = #"{"format":"opus","sample_rate":16000,"channels":1}"#
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(VoiceAudioParams.self, from: Data(json.utf8)) }
    }

    @Test(arguments: [8_000, 12_000, 16_000, 24_000, 48_000])
    func opusTakesItsRates(rate: Int) {
        #expect(VoiceAudioParams(format: .opus, sampleRate: rate).refusalReason == nil)
    }

    @Test(arguments: [10, 20, 40, 60])
    func everyFormatTakesTheFrameDurations(duration: Int) {
        #expect(VoiceAudioParams(format: .opus, sampleRate: 16_000, frameDuration: duration).isAcceptable)
        #expect(VoiceAudioParams(format: .pcm16, sampleRate: 16_000, frameDuration: duration).isAcceptable)
    }

    @Test(arguments: [
        (VoiceAudioParams(format: "mp3", sampleRate: 16_000, channels: 1, frameDuration: 60), "audio_params.format"),
        (VoiceAudioParams(format: "OPUS", sampleRate: 16_000, channels: 1, frameDuration: 60), "audio_params.format"),
        (VoiceAudioParams(format: .opus, sampleRate: 16_000, channels: 2), "audio_params.channels"),
        (VoiceAudioParams(format: .opus, sampleRate: 16_000, channels: 0), "audio_params.channels"),
        (VoiceAudioParams(format: .opus, sampleRate: 44_100), "audio_params.sample_rate"),
        (VoiceAudioParams(format: .opus, sampleRate: 0), "audio_params.sample_rate"),
        (VoiceAudioParams(format: .pcm16, sampleRate: 24_000), "audio_params.sample_rate"),
        (VoiceAudioParams(format: .pcm16, sampleRate: 8_000), "audio_params.sample_rate"),
        (VoiceAudioParams(format: .opus, sampleRate: 16_000, frameDuration: 5), "audio_params.frame_duration"),
        (VoiceAudioParams(format: .opus, sampleRate: 16_000, frameDuration: 80), "audio_params.frame_duration"),
        (VoiceAudioParams(format: .pcm16, sampleRate: 16_000, frameDuration: 0), "audio_params.frame_duration"),
    ])
    func refusesWithTheFieldNamed(params: VoiceAudioParams, field: String) throws {
        let reason = try #require(params.refusalReason)
        #expect(reason.hasPrefix(field))
        #expect(!params.isAcceptable)
    }

    @Test func aLongUnknownFormatIsShortenedInTheReason() throws {
        let reason = try #require(VoiceAudioParams(format: String(repeating: "x", count: 1000), sampleRate: 16_000, channels: 1, frameDuration: 60).refusalReason)
        #expect(reason.count < 120)
    }
}

extension VoiceAudioParamsTests {
    @Test(arguments: ["16000.5", "1e30", "\"16000\"", "null", "true"])
    func aSampleRateThatIsNotAWholeNumberIsNamed(value: String) {
        let json = #"{"format":"opus","sample_rate":\#(value),"channels":1,"frame_duration":60}"#
        do {
            _ = try JSONDecoder().decode(VoiceAudioParams.self, from: Data(json.utf8))
            Issue.record("decoded")
        } catch let error as DecodingError {
            switch error {
            case .typeMismatch(_, let context), .valueNotFound(_, let context):
                #expect(context.codingPath.map(\.stringValue) == ["sample_rate"])
            default:
                Issue.record("\(error)")
            }
        } catch {
            Issue.record("\(error)")
        }
    }
}
