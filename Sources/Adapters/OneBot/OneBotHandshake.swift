// SPDX-License-Identifier: Apache-2.0
import HTTPTypes

/// The role a reverse-WebSocket connection plays (`X-Client-Role`).
public enum OneBotRole: String, Sendable, Hashable {
    /// Events and actions on one connection.
    case universal = "Universal"
    /// Actions only: the hub sends, the implementation answers.
    case api = "API"
    /// Events only: the implementation never reads what the hub sends.
    case event = "Event"

    /// Whether actions may be sent on a connection with this role.
    public var carriesActions: Bool { self != .event }
    /// Whether events arrive on a connection with this role.
    public var carriesEvents: Bool { self != .api }
}

/// Checks a reverse-WebSocket handshake before the upgrade (ONEBOT11.md §1.4–1.5).
///
/// - `X-Self-ID` missing or not a decimal integer → 400.
/// - With a token configured: no credentials → 401, wrong credentials → 403. `Authorization` is
///   `Bearer <t>` or `Token <t>` in any case; `?access_token=` also works.
/// - `X-Client-Role` (any case) is `Universal`, `API` or `Event`; missing means Universal; anything
///   else → 400.
public struct OneBotHandshake: Sendable {
    /// A handshake that passed.
    public struct Accepted: Sendable, Hashable {
        public let selfID: Int64
        public let role: OneBotRole
    }

    /// A handshake that failed: the HTTP status and a message for the JSON error body.
    public struct Rejected: Error, Sendable, Hashable {
        public let status: HTTPResponse.Status
        public let message: String
    }

    /// The required token, nil or empty when none is configured.
    public let accessToken: String?

    public init(accessToken: String?) {
        self.accessToken = accessToken
    }

    /// The path's fixed role: `/ws/api` and `/ws/event` imply theirs; the universal paths use the header.
    public func evaluate(headers: HTTPFields, query: String?, pathRole: OneBotRole? = nil) -> Result<Accepted, Rejected> {
        guard let selfText = headers[Self.selfIDField], let selfID = Int64(selfText.trimmingCharacters(in: " \t")) else {
            return .failure(Rejected(status: .badRequest, message: "X-Self-ID header missing or not a number"))
        }
        switch AccessCredentials.check(
            authorization: headers[.authorization], query: query, expected: accessToken)
        {
        case .missing: return .failure(Rejected(status: .unauthorized, message: "access token required"))
        case .wrong: return .failure(Rejected(status: .forbidden, message: "access token rejected"))
        case .ok: break
        }
        var role = OneBotRole.universal
        if let header = headers[Self.roleField]?.trimmingCharacters(in: " \t"), !header.isEmpty {
            switch header.lowercased() {
            case "universal": role = .universal
            case "api": role = .api
            case "event": role = .event
            default: return .failure(Rejected(status: .badRequest, message: "X-Client-Role must be Universal, API or Event"))
            }
        }
        if let pathRole {
            if headers[Self.roleField] != nil, role != pathRole, role != .universal {
                return .failure(Rejected(status: .badRequest, message: "X-Client-Role does not match the path"))
            }
            role = pathRole
        }
        return .success(Accepted(selfID: selfID, role: role))
    }

    static let selfIDField = HTTPField.Name("X-Self-ID")!
    static let roleField = HTTPField.Name("X-Client-Role")!
}

extension String {
    func trimmingCharacters(in set: String) -> String {
        let characters = Set(set)
        var slice = Substring(self)
        while let first = slice.first, characters.contains(first) { slice = slice.dropFirst() }
        while let last = slice.last, characters.contains(last) { slice = slice.dropLast() }
        return String(slice)
    }
}
