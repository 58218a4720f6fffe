// SPDX-License-Identifier: Apache-2.0
import Engine

/// An implementation's answer to an action (ONEBOT11.md §2.1–2.2).
public struct OneBotActionResponse: Sendable, Hashable {
    /// `ok`, `async` or `failed` (derived from `retcode` when `status` is absent).
    public var status: String
    public var retcode: Int64
    public var data: JSONValue
    /// go-cqhttp's error code (`GROUP_NOT_FOUND`…), NapCat's `message`, and the human `wording`.
    public var message: String
    public var wording: String
    public var echo: String?

    public init(status: String, retcode: Int64, data: JSONValue = .null, message: String = "", wording: String = "", echo: String? = nil) {
        self.status = status
        self.retcode = retcode
        self.data = data
        self.message = message
        self.wording = wording
        self.echo = echo
    }

    /// Reads a response object; nil when `value` has neither `retcode` nor `status`.
    public init?(json value: JSONValue) {
        guard let object = value.objectValue, object["retcode"] != nil || object["status"] != nil else { return nil }
        let retcode = object["retcode"]?.int64Value ?? 0
        self.status = object["status"]?.stringValue ?? (retcode == 0 ? "ok" : retcode == 1 ? "async" : "failed")
        self.retcode = retcode
        self.data = object["data"] ?? .null
        self.message = object["msg"]?.stringValue ?? object["message"]?.stringValue ?? ""
        self.wording = object["wording"]?.stringValue ?? ""
        self.echo = object["echo"]?.textValue
    }

    /// `ok`, or `async` (accepted, outcome unknown).
    public var succeeded: Bool { status == "ok" || status == "async" }

    /// The family of a failure, for the few decisions that depend on it.
    public enum Family: Sendable, Hashable {
        case ok, unsupported, badRequest, auth, other
    }

    public var family: Family {
        if succeeded { return .ok }
        switch retcode {
        case 404, 1404: return .unsupported
        case 400, 1400: return .badRequest
        case 401, 403, 1401, 1403: return .auth
        default: return .other
        }
    }

    /// `data.message_id` as text, when present.
    public var messageID: String? { data["message_id"]?.int64Value.map(String.init) }
}

/// Why an action did not complete.
public struct OneBotActionError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable {
        /// The connection closed before the answer came; the action may or may not have run.
        case connectionLost
        /// No answer in time; the action may or may not have run.
        case timeout
        /// The implementation answered with a failure.
        case failed
        /// No connection or HTTP API can carry actions for this bot.
        case noRoute
        /// The connection's send queue is full.
        case overloaded
        /// The message would be empty or too large.
        case invalid
    }

    public let kind: Kind
    public let response: OneBotActionResponse?
    public let detail: String

    public init(_ kind: Kind, response: OneBotActionResponse? = nil, detail: String = "") {
        self.kind = kind
        self.response = response
        self.detail = detail
    }

    public var description: String {
        if let response {
            return "\(kind.rawValue): retcode \(response.retcode) \(response.message) \(response.wording)"
        }
        return detail.isEmpty ? kind.rawValue : "\(kind.rawValue): \(detail)"
    }
}
