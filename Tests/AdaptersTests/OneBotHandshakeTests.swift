// SPDX-License-Identifier: Apache-2.0
import Engine
import Hummingbird
import Testing

@testable import Adapters

/// Headers from name/value pairs; names keep the spelling given (NapCat sends them lower-case).
private func headers(_ pairs: KeyValuePairs<String, String>) -> HTTPFields {
    var fields = HTTPFields()
    for (name, value) in pairs {
        fields.append(HTTPFields.Element(name: HTTPFields.Element.Name(name)!, value: value))
    }
    return fields
}

/// One handshake and what the hub must answer.
struct HandshakeCase: Sendable, CustomTestStringConvertible {
    var token: String?
    var authorization: String?
    var query: String?
    var role: String?
    var pathRole: OneBotRole?
    var selfID: String? = "3847291056"
    /// The HTTP status of the refusal, or nil when the handshake passes.
    var status: Int?
    /// The role of the accepted connection.
    var acceptedRole: OneBotRole?

    var testDescription: String {
        "token \(token.map { "\"\($0)\"" } ?? "unset"), Authorization \(authorization.map { "\"\($0)\"" } ?? "-"), query \(query ?? "-"), "
            + "role \(role ?? "-"), path \(pathRole?.rawValue ?? "-"), X-Self-ID \(selfID ?? "-") → \(status.map(String.init) ?? "accept")"
    }

    func evaluate() -> Result<OneBotHandshake.Accepted, OneBotHandshake.Rejected> {
        var fields = HTTPFields()
        if let selfID { fields.append(HTTPFields.Element(name: OneBotHandshake.selfIDField, value: selfID)) }
        if let authorization { fields.append(HTTPFields.Element(name: .authorization, value: authorization)) }
        if let role { fields.append(HTTPFields.Element(name: OneBotHandshake.roleField, value: role)) }
        return OneBotHandshake(accessToken: token).evaluate(headers: fields, query: query, pathRole: pathRole)
    }
}

@Suite struct OneBotHandshakeTests {
    // MARK: X-Self-ID

    @Test(arguments: [
        HandshakeCase(token: nil, selfID: nil, status: 400),
        HandshakeCase(token: "t", authorization: "Bearer t", selfID: nil, status: 400),
        // X-Self-ID is checked before the token.
        HandshakeCase(token: "t", selfID: nil, status: 400),
        HandshakeCase(token: nil, selfID: "", status: 400),
        HandshakeCase(token: nil, selfID: "abc", status: 400),
        HandshakeCase(token: nil, selfID: "38472910x", status: 400),
        HandshakeCase(token: nil, selfID: "3847291056.0", status: 400),
        HandshakeCase(token: nil, selfID: "0x1F", status: 400),
        HandshakeCase(token: nil, selfID: "99999999999999999999", status: 400),
        HandshakeCase(token: nil, selfID: "3847291056", status: nil, acceptedRole: .universal),
    ])
    func selfIDMustBeADecimalInteger(_ handshake: HandshakeCase) {
        switch handshake.evaluate() {
        case .success(let accepted):
            #expect(handshake.status == nil)
            #expect(accepted.selfID == 3_847_291_056)
        case .failure(let rejection):
            #expect(rejection.status.code == handshake.status)
        }
    }

    @Test func selfIDBeyondInt32AndLowerCaseHeaderNames() throws {
        let fields = headers(["x-self-id": "98765432109", "x-client-role": "universal", "authorization": "Bearer s3cret"])
        let accepted = try OneBotHandshake(accessToken: "s3cret").evaluate(headers: fields, query: nil).get()
        #expect(accepted == OneBotHandshake.Accepted(selfID: 98_765_432_109, role: .universal))
    }

    // MARK: Token (§1.4 [HUB], §1.5)

    @Test(arguments: [
        // Token configured: no credentials → 401.
        HandshakeCase(token: "t", status: 401),
        HandshakeCase(token: "t", authorization: "Bearer ", status: 401),
        HandshakeCase(token: "t", authorization: "Bearer", status: 401),
        HandshakeCase(token: "t", authorization: "Token ", status: 401),
        HandshakeCase(token: "t", authorization: "", status: 401),
        HandshakeCase(token: "t", query: "access_token=", status: 401),
        HandshakeCase(token: "t", query: "other=1", status: 401),
        // Wrong token, in either scheme or the query → 403.
        HandshakeCase(token: "t", authorization: "Bearer wrong", status: 403),
        HandshakeCase(token: "t", authorization: "Token wrong", status: 403),
        HandshakeCase(token: "t", authorization: "Bearer tt", status: 403),
        HandshakeCase(token: "t", authorization: "Bearer T", status: 403),
        HandshakeCase(token: "t", query: "access_token=bad", status: 403),
        HandshakeCase(token: "t", authorization: "Basic xyz", status: 403),
        HandshakeCase(token: "t", authorization: "Basic t", status: 403),
        // The right token: either scheme, any case; or the query.
        HandshakeCase(token: "t", authorization: "Bearer t", status: nil),
        HandshakeCase(token: "t", authorization: "Token t", status: nil),
        HandshakeCase(token: "t", authorization: "bearer t", status: nil),
        HandshakeCase(token: "t", authorization: "BEARER t", status: nil),
        HandshakeCase(token: "t", authorization: "token t", status: nil),
        HandshakeCase(token: "t", authorization: "Bearer   t  ", status: nil),
        HandshakeCase(token: "t", query: "access_token=t", status: nil),
        HandshakeCase(token: "t", query: "x=1&access_token=t", status: nil),
        HandshakeCase(token: "a b/c", query: "access_token=a%20b%2Fc", status: nil),
        // An empty Authorization falls back to the query (go-cqhttp does).
        HandshakeCase(token: "t", authorization: "Bearer ", query: "access_token=t", status: nil),
        // Token not configured: anything passes, including NapCat's "Bearer " with nothing after it.
        HandshakeCase(token: nil, status: nil),
        HandshakeCase(token: nil, authorization: "Bearer ", status: nil),
        HandshakeCase(token: nil, authorization: "Bearer whatever", status: nil),
        HandshakeCase(token: nil, authorization: "Basic xyz", status: nil),
        HandshakeCase(token: nil, query: "access_token=bad", status: nil),
        HandshakeCase(token: "", authorization: "Bearer ", status: nil),
        HandshakeCase(token: "", authorization: "Token x", status: nil),
    ])
    func token(_ handshake: HandshakeCase) {
        switch handshake.evaluate() {
        case .success(let accepted):
            #expect(handshake.status == nil)
            #expect(accepted.selfID == 3_847_291_056)
            #expect(accepted.role == .universal)
        case .failure(let rejection):
            #expect(rejection.status.code == handshake.status)
            #expect(!rejection.message.isEmpty)
        }
    }

    // MARK: X-Client-Role

    @Test(arguments: [
        HandshakeCase(role: nil, status: nil, acceptedRole: .universal),
        HandshakeCase(role: "", status: nil, acceptedRole: .universal),
        HandshakeCase(role: "Universal", status: nil, acceptedRole: .universal),
        HandshakeCase(role: "universal", status: nil, acceptedRole: .universal),
        HandshakeCase(role: "UNIVERSAL", status: nil, acceptedRole: .universal),
        HandshakeCase(role: "API", status: nil, acceptedRole: .api),
        HandshakeCase(role: "Api", status: nil, acceptedRole: .api),
        HandshakeCase(role: "api", status: nil, acceptedRole: .api),
        HandshakeCase(role: "Event", status: nil, acceptedRole: .event),
        HandshakeCase(role: "EVENT", status: nil, acceptedRole: .event),
        HandshakeCase(role: "event", status: nil, acceptedRole: .event),
        HandshakeCase(role: "bogus", status: 400),
        HandshakeCase(role: "apis", status: 400),
        HandshakeCase(role: "API,Event", status: 400),
        // The token is checked before the role.
        HandshakeCase(token: "t", role: "bogus", status: 401),
        HandshakeCase(token: "t", authorization: "Token t", role: "Api", status: nil, acceptedRole: .api),
    ])
    func clientRole(_ handshake: HandshakeCase) {
        switch handshake.evaluate() {
        case .success(let accepted):
            #expect(handshake.status == nil)
            #expect(accepted.role == handshake.acceptedRole)
        case .failure(let rejection):
            #expect(rejection.status.code == handshake.status)
        }
    }

    // MARK: The role of the path (/ws/api, /ws/event)

    @Test(arguments: [
        HandshakeCase(role: nil, pathRole: .api, status: nil, acceptedRole: .api),
        HandshakeCase(role: "Universal", pathRole: .api, status: nil, acceptedRole: .api),
        HandshakeCase(role: "api", pathRole: .api, status: nil, acceptedRole: .api),
        HandshakeCase(role: nil, pathRole: .event, status: nil, acceptedRole: .event),
        HandshakeCase(role: "universal", pathRole: .event, status: nil, acceptedRole: .event),
        HandshakeCase(role: "EVENT", pathRole: .event, status: nil, acceptedRole: .event),
        // A header that names the other split role contradicts the path: an Event client on the API
        // path would be sent actions it never reads.
        HandshakeCase(role: "Event", pathRole: .api, status: 400),
        HandshakeCase(role: "API", pathRole: .event, status: 400),
        HandshakeCase(role: "bogus", pathRole: .api, status: 400),
    ])
    func pathRoleOverridesTheHeader(_ handshake: HandshakeCase) {
        switch handshake.evaluate() {
        case .success(let accepted):
            #expect(handshake.status == nil)
            #expect(accepted.role == handshake.acceptedRole)
        case .failure(let rejection):
            #expect(rejection.status.code == handshake.status)
        }
    }

    // MARK: Roles

    @Test func onlyEventConnectionsRefuseActions() {
        #expect(OneBotRole.universal.carriesActions && OneBotRole.universal.carriesEvents)
        #expect(OneBotRole.api.carriesActions && !OneBotRole.api.carriesEvents)
        #expect(!OneBotRole.event.carriesActions && OneBotRole.event.carriesEvents)
    }
}
