// SPDX-License-Identifier: Apache-2.0
import Adapters

extension VoiceSettings {
    /// The voice door's settings (the live door and its OTA check) from the `voice:` section.
    /// `allowedOrigins` are the web page's (`web.allowed_origins`): the page's microphone uses this door.
    func doorSettings(allowedOrigins: [String] = []) -> VoiceDoorSettings {
        VoiceDoorSettings(
            accessToken: accessToken?.value, publicURL: publicURL, allowedDevices: allowedDevices, maxSessions: maxSessions,
            endpointSilence: .milliseconds(endpointSilenceMs), maxUtterance: .milliseconds(Int64(maxUtteranceSeconds * 1000)),
            sampleRate: sampleRate, frameDurationMs: frameDurationMs, idleTimeout: .milliseconds(Int64(idleTimeout * 1000)),
            helloTimeout: .milliseconds(Int64(helloTimeout * 1000)),
            // Validated to 1...3; 1 (bare Opus) is what devices assume anyway.
            protocolVersion: VoiceBinaryFrame.Version(rawValue: protocolVersion) ?? .v1, allowedOrigins: allowedOrigins)
    }
}
