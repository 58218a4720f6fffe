// SPDX-License-Identifier: Apache-2.0
import Testing

@testable import Adapters

struct VoiceDoorSettingsTests {
    @Test func defaultsMatchTheConfiguration() {
        let settings = VoiceDoorSettings()
        #expect(settings.accessToken == nil)
        #expect(settings.publicURL == nil)
        #expect(settings.maxSessions == 64)
        #expect(settings.endpointSilence == .milliseconds(500))
        #expect(settings.maxUtterance == .seconds(30))
        #expect(settings.idleTimeout == .seconds(120))
        #expect(settings.helloTimeout == .seconds(10))
        #expect(settings.protocolVersion == .v1)
        #expect(settings.serverAudioParams == VoiceAudioParams(format: "opus", sampleRate: 24_000, channels: 1, frameDuration: 60))
    }

    @Test func emptyStringsMeanUnset() {
        let settings = VoiceDoorSettings(accessToken: "", publicURL: "")
        #expect(settings.accessToken == nil)
        #expect(settings.publicURL == nil)
    }

    @Test func anEmptyAllowListAllowsAnyone() {
        let settings = VoiceDoorSettings()
        #expect(settings.allows(deviceID: "aa:bb:cc:dd:ee:ff"))
        #expect(settings.allows(deviceID: nil))
    }

    @Test func theAllowListIgnoresCaseAndSpaces() {
        var settings = VoiceDoorSettings(allowedDevices: ["AA:BB:CC:DD:EE:FF", " 11:22:33:44:55:66 "])
        #expect(settings.allows(deviceID: "aa:bb:cc:dd:ee:ff"))
        #expect(settings.allows(deviceID: "Aa:Bb:cC:dD:eE:fF "))
        #expect(settings.allows(deviceID: "11:22:33:44:55:66"))
        #expect(!settings.allows(deviceID: "aa:bb:cc:dd:ee:00"))
        #expect(!settings.allows(deviceID: ""))
        #expect(!settings.allows(deviceID: nil))
        settings.allowedDevices = ["aa:bb:cc:dd:ee:00"]
        #expect(settings.allows(deviceID: "AA:BB:CC:DD:EE:00"))
        #expect(!settings.allows(deviceID: "aa:bb:cc:dd:ee:ff"))
    }

    @Test func serverAudioParamsFollowTheSettings() {
        let settings = VoiceDoorSettings(sampleRate: 16_000, frameDurationMs: 20)
        #expect(settings.serverAudioParams == VoiceAudioParams(format: .opus, sampleRate: 16_000, frameDuration: 20))
        #expect(settings.serverAudioParams.isAcceptable)
    }
}
