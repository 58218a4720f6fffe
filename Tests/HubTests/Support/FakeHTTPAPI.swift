// SPDX-License-Identifier: Apache-2.0
import Adapters
import Engine
import Hummingbird
import HummingbirdTesting
import NIOCore
import Synchronization

/// A OneBot implementation's forward HTTP API on loopback (`POST /<action>`), recording calls.
final class FakeHTTPAPI: Sendable {
    struct Call: Sendable {
        let action: String
        let params: JSONValue
        let authorization: String?
        let contentType: String?
    }

    private let recorded = Mutex([Call]())
    var calls: [Call] { recorded.withLock { $0 } }

    func run<T: Sendable>(_ body: @Sendable (String) async throws -> T) async throws -> T {
        let router = Router()
        router.post("/{action}") { request, context -> Response in
            let action = try context.parameters.require("action")
            let bytes = try await request.body.collect(upTo: 1 << 20)
            let params = try JSONValue(parsing: bytes.readableBytesView)
            let count = self.recorded.withLock { calls in
                calls.append(Call(action: action, params: params, authorization: request.headers[.authorization], contentType: request.headers[.contentType]))
                return calls.count
            }
            return Response.json(.ok, ["status": "ok", "retcode": 0, "data": ["message_id": .int(Int64(count))]])
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        return try await app.test(.live) { client in try await body("http://127.0.0.1:\(client.port!)") }
    }

    /// The call number `index`, waiting for it up to `timeout`.
    func call(_ index: Int, timeout: Duration = .seconds(5)) async throws -> Call {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let call = recorded.withLock({ calls -> Call? in calls.count > index ? calls[index] : nil }) { return call }
            guard ContinuousClock.now < deadline else { throw FakeOneBot.NoAction(index: index) }
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}
