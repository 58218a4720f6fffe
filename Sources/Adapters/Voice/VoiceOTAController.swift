// SPDX-License-Identifier: Apache-2.0
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// The OTA check of xiaozhi devices, `POST /xiaozhi/ota/` (and `GET`; with or without the trailing
/// slash): where a device learns, once per boot, the voice WebSocket's URL and token and the time.
///
/// A device posts its description (``VoiceOTARequest``) with `Device-Id` (its MAC) and `Client-Id`
/// (a UUID) headers; the answer is a ``VoiceOTAResponse``: the hub's time and time zone, the
/// device's own firmware version (no update is ever offered), and `websocket {url, token}` with the
/// binary protocol `version` — named even when it is 1, since a device keeps the last version it
/// was given and would stay on 2 or 3 after the setting went back to 1. The URL is `voice.public_url`, else the one the
/// request reached the hub by: `wss` when `X-Forwarded-Proto` says https (else `ws`: a hub serving
/// TLS itself cannot tell), the host from `X-Forwarded-Host` or `Host`, path `/xiaozhi/v1/`.
///
/// Refusals, in the hub's error shape: 400 for a POST without `Device-Id` or `Client-Id`, for ids
/// longer than 128 bytes, a body that is not a JSON object, or a request with no usable host; 403 for a device not in
/// `voice.allowed_devices` (or no `Device-Id` at all when the list is set, GET included); 413 for a
/// body above `maxBodyBytes`. A GET without headers answers like a POST (firmware `0.0.0`).
///
/// ```swift
/// VoiceOTAController(settings: voiceSettings).addRoutes(to: router)
/// ```
public struct VoiceOTAController: Sendable {
    /// The route, registered once: the router treats `/xiaozhi/ota` and `/xiaozhi/ota/` alike.
    public static let path = "/xiaozhi/ota/"
    /// The WebSocket path the derived URL names.
    public static let webSocketPath = "/xiaozhi/v1/"
    /// Longest `Device-Id` and `Client-Id` taken, in bytes.
    static let maxIDBytes = 128

    static let deviceIDField = HTTPField.Name("Device-Id")!
    static let clientIDField = HTTPField.Name("Client-Id")!

    let settings: VoiceDoorSettings
    let maxBodyBytes: Int
    let timeZone: TimeZone
    let now: @Sendable () -> Date

    /// - Parameters:
    ///   - settings: the voice door's settings (token, public URL, allow-list, protocol version).
    ///   - maxBodyBytes: largest request body; devices send about 2 KiB.
    ///   - timeZone: the zone whose offset devices are told (the hub's).
    ///   - now: the clock.
    public init(
        settings: VoiceDoorSettings, maxBodyBytes: Int = 64 << 10, timeZone: TimeZone = .current,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.settings = settings
        self.maxBodyBytes = maxBodyBytes
        self.timeZone = timeZone
        self.now = now
    }

    /// Registers `GET` and `POST` on ``path``.
    public func addRoutes<Context: RequestContext>(to router: Router<Context>) {
        let path = RouterPath(Self.path)
        router.post(path) { request, context in try await self.check(request, context: context, readsBody: true) }
        router.get(path) { request, context in try await self.check(request, context: context, readsBody: false) }
    }

    /// Answers one check.
    func check<Context: RequestContext>(_ request: Request, context: Context, readsBody: Bool) async throws -> Response {
        let deviceID = Self.headerValue(request.headers[Self.deviceIDField])
        let clientID = Self.headerValue(request.headers[Self.clientIDField])
        func refusal(_ status: HTTPResponse.Status, _ message: String) -> HubError {
            context.logger.notice(
                "voice OTA check refused",
                metadata: [
                    "hub.status": "\(status.code)", "hub.reason": "\(message)", "hub.device": "\(deviceID.map(Self.printable) ?? "-")",
                    "hub.client": "\(clientID.map(Self.printable) ?? "-")",
                ])
            return HubError(status, message)
        }
        if readsBody {
            guard deviceID != nil, clientID != nil else { throw refusal(.badRequest, "the Device-Id and Client-Id headers are required") }
        }
        guard (deviceID?.utf8.count ?? 0) <= Self.maxIDBytes, (clientID?.utf8.count ?? 0) <= Self.maxIDBytes else {
            throw refusal(.badRequest, "Device-Id and Client-Id must be at most \(Self.maxIDBytes) bytes")
        }
        guard settings.allows(deviceID: deviceID) else { throw refusal(.forbidden, "this device is not allowed (voice.allowed_devices)") }
        var device = VoiceOTARequest()
        if readsBody {
            let body: ByteBuffer
            do {
                body = try await request.body.collect(upTo: maxBodyBytes)
            } catch {
                throw refusal(.contentTooLarge, "body larger than \(maxBodyBytes) bytes")
            }
            do {
                device = try VoiceOTARequest.decode(body.readableBytesView)
            } catch {
                throw refusal(.badRequest, "the body must be a JSON object describing the device")
            }
        }
        guard let url = webSocketURL(for: request) else {
            throw refusal(.badRequest, "the request names no usable host (Host, X-Forwarded-Host); set voice.public_url")
        }
        let answer = response(url: url, firmwareVersion: device.applicationVersion)
        context.logger.info(
            "voice OTA check",
            metadata: [
                "hub.device": "\(deviceID.map(Self.printable) ?? "-")", "hub.client": "\(clientID.map(Self.printable) ?? "-")",
                "hub.firmware": "\(Self.printable(answer.firmware.version))", "hub.board": "\(device.boardType.map(Self.printable) ?? "-")",
            ])
        return Response(
            status: .ok, headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(bytes: answer.json)))
    }

    /// The answer for a device on `firmwareVersion` (nil: unknown, `0.0.0`), pointing it at `url`.
    func response(url: String, firmwareVersion: String?) -> VoiceOTAResponse {
        let date = now()
        let version = firmwareVersion.flatMap { $0.isEmpty ? nil : $0 } ?? "0.0.0"
        return VoiceOTAResponse(
            serverTime: .init(
                timestamp: Int64((date.timeIntervalSince1970 * 1000).rounded(.down)), timezoneOffset: timeZone.secondsFromGMT(for: date) / 60),
            firmware: .init(version: version, url: ""),
            websocket: .init(
                url: url, token: settings.accessToken ?? "", version: settings.protocolVersion.rawValue))
    }

    /// `voice.public_url`, else the URL of ``webSocketPath`` on the host the request reached.
    func webSocketURL(for request: Request) -> String? {
        if let publicURL = settings.publicURL { return publicURL }
        return Self.derivedURL(
            forwardedProto: request.headers[PublicOrigin.forwardedProto], forwardedHost: request.headers[PublicOrigin.forwardedHost],
            host: request.head.authority)
    }

    /// `ws(s)://<host>/xiaozhi/v1/` from a request's headers (``PublicOrigin``): `wss` when the
    /// first `X-Forwarded-Proto` is `https` (or `wss`); nil when no usable host is given.
    static func derivedURL(forwardedProto: String?, forwardedHost: String?, host: String?) -> String? {
        PublicOrigin.origin(forwardedProto: forwardedProto, forwardedHost: forwardedHost, host: host, plain: "ws", secure: "wss")
            .map { $0 + webSocketPath }
    }

    /// A header's value, trimmed; nil when absent or blank.
    static func headerValue(_ value: String?) -> String? {
        guard let trimmed = value?.trimmingCharacters(in: " \t"), !trimmed.isEmpty else { return nil }
        return trimmed
    }

    /// A device-given string fit for a log line: at most 64 characters, control characters replaced.
    static func printable(_ value: String) -> String {
        String(value.prefix(64).map { $0.isASCII && ($0.asciiValue! < 0x20 || $0.asciiValue! == 0x7F) ? "?" : $0 })
    }
}
