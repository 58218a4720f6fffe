// SPDX-License-Identifier: Apache-2.0
import Engine
import Foundation
import Logging

/// The audio of QQ voice messages (`record` segments), got the way ONEBOT11.md §5 advises: a
/// `base64://` file as it is; otherwise `get_record` with `out_format: "wav"` (the implementation
/// turns QQ's SILK into WAV and NapCat returns it as base64 or a URL), falling back to the segment's
/// `url` when the implementation lacks the action (go-cqhttp answers 404). URLs are fetched with the
/// hub's guards (http/https only, no private or loopback address unless `voice.allowed_hosts` names
/// it, size and time caps); a `file://` path is never read (it names the implementation's disk).
struct OneBotMediaSource: MediaSource {
    let door: OneBotDoor

    func audio(_ reference: MediaReference, of event: ConversationEvent) async throws -> AudioInput {
        let bytes: [UInt8]
        switch reference {
        case .bytes(let bytes, let format), .hosted(_, let bytes, let format):
            return try Self.checked(bytes, format: AudioFormat(rawValue: format))
        case .url(let location):
            bytes = try await fetch(location)
        case .platformFile(let id, let url):
            if let recorded = try await viaGetRecord(id, event: event) {
                bytes = recorded
            } else if let url {
                bytes = try await fetch(url)
            } else {
                throw SpeechError.badInput("the voice message could not be had from the OneBot implementation (no get_record, no URL)")
            }
        }
        return try Self.checked(bytes, format: nil)
    }

    /// `get_record` as WAV; nil when the implementation cannot (unknown action, an error, no bot).
    private func viaGetRecord(_ file: String, event: ConversationEvent) async throws -> [UInt8]? {
        guard let selfID = Int64(event.botID) else { return nil }
        let outcome: OneBotDoor.Outcome
        do {
            outcome = try await door.perform(
                "get_record", params: ["file": .string(file), "out_format": "wav"], selfID: selfID, timeout: door.settings.mediaActionTimeout,
                queueWhenOffline: false)
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            door.logger.info("get_record failed; trying the segment's URL", metadata: ["hub.bot": "\(selfID)", "error": "\(error)"])
            return nil
        }
        guard case .done(let response) = outcome, response.retcode == 0, response.status != "failed" else { return nil }
        if let encoded = response.data["base64"]?.stringValue, !encoded.isEmpty {
            return try decodeBase64(encoded)
        }
        for key in ["url", "file"] {
            if let location = response.data[key]?.stringValue, Self.isHTTP(location) { return try await fetch(location) }
        }
        return nil
    }

    private func fetch(_ location: String) async throws -> [UInt8] {
        if location.lowercased().hasPrefix("base64://") { return try decodeBase64(String(location.dropFirst("base64://".count))) }
        guard Self.isHTTP(location) else { throw SpeechError.badInput("the voice message's location is not an http(s) URL") }
        guard let fetcher = door.mediaFetcher else { throw SpeechError.badInput("fetching voice messages by URL is not enabled") }
        do {
            return try await fetcher.fetch(location).body
        } catch let error as FetchError {
            throw SpeechError.badInput("the voice message could not be fetched: \(error.detail)")
        }
    }

    private func decodeBase64(_ text: String) throws -> [UInt8] {
        let limit = door.mediaFetcher?.policy.maxBytes ?? (25 << 20)
        guard text.utf8.count / 4 * 3 <= limit else { throw SpeechError.badInput("the voice message is larger than \(limit) bytes") }
        guard let data = Data(base64Encoded: text, options: .ignoreUnknownCharacters) else {
            throw SpeechError.badInput("the voice message's base64 is not valid")
        }
        return Array(data)
    }

    /// Refuses what no decoder here reads: QQ's own SILK and AMR (the implementation converts them
    /// only through `get_record`).
    static func checked(_ bytes: [UInt8], format: AudioFormat?) throws -> AudioInput {
        let head = bytes.prefix(10)
        if head.starts(with: [0x02] + Array("#!SILK".utf8)) || head.starts(with: Array("#!SILK".utf8)) || head.starts(with: Array("#!AMR".utf8)) {
            throw SpeechError.badInput("the voice message is in QQ's SILK/AMR format, which the OneBot implementation did not convert")
        }
        return .encoded(bytes, format: format)
    }

    static func isHTTP(_ location: String) -> Bool {
        let lowered = location.lowercased()
        return lowered.hasPrefix("http://") || lowered.hasPrefix("https://")
    }
}
