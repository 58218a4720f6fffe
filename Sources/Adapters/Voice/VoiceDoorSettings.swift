// SPDX-License-Identifier: Apache-2.0
import Foundation

/// How the live voice door (`/ws/voice`, alias `/xiaozhi/v1/`) and its OTA check (`/xiaozhi/ota/`)
/// behave; filled from the hub's `voice:` configuration.
///
/// ```swift
/// let settings = VoiceDoorSettings(accessToken: "t", allowedDevices: ["AA:BB:CC:DD:EE:FF"])
/// settings.allows(deviceID: "aa:bb:cc:dd:ee:ff")   // true
/// settings.serverAudioParams                        // opus, 24 kHz, mono, 60 ms
/// ```
public struct VoiceDoorSettings: Sendable {
    /// Token voice clients present (`Authorization: Bearer`, or `?token=` from a browser), and that
    /// the OTA check hands devices; nil or empty: the door is open.
    public var accessToken: String?
    /// The WebSocket URL the OTA check gives devices; nil: derived from each request.
    public var publicURL: String?
    /// Devices (`Device-Id`, compared case-insensitively) allowed on the door and the OTA check;
    /// empty allows any.
    public var allowedDevices: [String] {
        didSet { allowedDeviceKeys = Self.keys(allowedDevices) }
    }
    /// Voice connections held at once.
    public var maxSessions: Int
    /// Silence that ends an utterance in `auto` and `realtime` listening.
    public var endpointSilence: Duration
    /// Longest utterance; the recognizer is given what was heard so far.
    public var maxUtterance: Duration
    /// Sample rate of the answer audio, in Hz (16000 or 24000).
    public var sampleRate: Int
    /// Duration of each answer audio frame, in milliseconds.
    public var frameDurationMs: Int
    /// A connection with nothing heard for this long is closed.
    public var idleTimeout: Duration
    /// A client that sends no valid hello this long after connecting is closed.
    public var helloTimeout: Duration
    /// The binary protocol version the OTA check assigns devices.
    public var protocolVersion: VoiceBinaryFrame.Version
    /// Pages elsewhere whose scripts may open the voice WebSocket (`web.allowed_origins`; `*` for
    /// any). Devices send no `Origin`; a page on the hub's own host is always allowed.
    public var allowedOrigins: [String]

    /// Lower-cased ``allowedDevices``.
    private var allowedDeviceKeys: Set<String>

    public init(
        accessToken: String? = nil, publicURL: String? = nil, allowedDevices: [String] = [], maxSessions: Int = 64,
        endpointSilence: Duration = .milliseconds(500), maxUtterance: Duration = .seconds(30), sampleRate: Int = 24_000,
        frameDurationMs: Int = 60, idleTimeout: Duration = .seconds(120), helloTimeout: Duration = .seconds(10),
        protocolVersion: VoiceBinaryFrame.Version = .v1, allowedOrigins: [String] = []
    ) {
        self.accessToken = accessToken.flatMap { $0.isEmpty ? nil : $0 }
        self.publicURL = publicURL.flatMap { $0.isEmpty ? nil : $0 }
        self.allowedDevices = allowedDevices
        self.allowedDeviceKeys = Self.keys(allowedDevices)
        self.maxSessions = maxSessions
        self.endpointSilence = endpointSilence
        self.maxUtterance = maxUtterance
        self.sampleRate = sampleRate
        self.frameDurationMs = frameDurationMs
        self.idleTimeout = idleTimeout
        self.helloTimeout = helloTimeout
        self.protocolVersion = protocolVersion
        self.allowedOrigins = allowedOrigins
    }

    /// Whether a device may use the door: any when ``allowedDevices`` is empty, else one of them
    /// (letter case and surrounding spaces aside). A missing id is allowed only when the list is empty.
    public func allows(deviceID: String?) -> Bool {
        guard !allowedDeviceKeys.isEmpty else { return true }
        guard let deviceID else { return false }
        return allowedDeviceKeys.contains(Self.key(deviceID))
    }

    /// What the hub's `hello` announces for the audio it sends: Opus, mono, at ``sampleRate`` in
    /// frames of ``frameDurationMs``.
    public var serverAudioParams: VoiceAudioParams {
        VoiceAudioParams(format: .opus, sampleRate: sampleRate, frameDuration: frameDurationMs)
    }

    private static func key(_ deviceID: String) -> String {
        deviceID.trimmingCharacters(in: " \t").lowercased()
    }

    private static func keys(_ deviceIDs: [String]) -> Set<String> {
        Set(deviceIDs.map(key))
    }
}
