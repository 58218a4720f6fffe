// SPDX-License-Identifier: Apache-2.0
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import NIOPosix
import Synchronization
import Testing

@testable import Hub

/// A request the hub cannot parse is answered 400 and its connection closed at once, instead of
/// being left open with no answer until the client gives up; the hub goes on serving.
@Suite(.timeLimit(.minutes(1)))
struct MalformedHTTPTests {
    static let requests: [(name: String, bytes: String)] = [
        ("garbage request line", "GARBAGE\r\n\r\n"),
        ("conflicting Content-Length", "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\nhello"),
        ("NUL in a header", "GET /health HTTP/1.1\r\nHo\u{0}st: x\r\n\r\n"),
        ("unknown method", "BREW /health HTTP/1.1\r\nHost: x\r\n\r\n"),
        ("bad chunked framing", "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\nabc\r\n"),
    ]

    @Test(arguments: 0..<requests.count)
    func aRequestThatCannotBeParsedIsAnswered400AndClosed(index: Int) async throws {
        let configuration = try TestHub.configuration(upstream: nil, databasePath: TestHub.databasePath())
        try await TestHub.run(configuration) { port, client in
            let answer = try await RawHTTP.exchange(port: port, Self.requests[index].bytes, timeout: .seconds(5))
            #expect(answer.hasPrefix("HTTP/1.1 400"), "\(Self.requests[index].name): \(answer.prefix(60))")
            try await client.execute(uri: "/health", method: .get) { #expect($0.status == .ok) }
        }
    }
}

/// One raw exchange over TCP: writes `request` as is and reads until the server closes.
enum RawHTTP {
    struct StillOpen: Error, CustomStringConvertible {
        let received: String
        var description: String { "the connection was still open; received: \(received.prefix(120))" }
    }

    private final class Collector: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let bytes = Mutex([UInt8]())
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let buffer = unwrapInboundIn(data)
            bytes.withLock { $0 += buffer.readableBytesView }
        }
    }

    /// What the server sent before closing; throws ``StillOpen`` when it did not close in `timeout`.
    static func exchange(port: Int, _ request: String, timeout: Duration) async throws -> String {
        let collector = Collector()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(collector) } }
            .connect(host: "127.0.0.1", port: port).get()
        try await channel.writeAndFlush(ByteBuffer(string: request)).get()
        let deadline = ContinuousClock.now + timeout
        while channel.isActive {
            guard ContinuousClock.now < deadline else {
                try? await channel.close().get()
                throw StillOpen(received: String(decoding: collector.bytes.withLock { $0 }, as: UTF8.self))
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        return String(decoding: collector.bytes.withLock { $0 }, as: UTF8.self)
    }
}
