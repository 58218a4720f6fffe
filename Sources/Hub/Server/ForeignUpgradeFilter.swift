// SPDX-License-Identifier: Apache-2.0
import NIOCore
import NIOHTTP1

/// Serves a request that offers an upgrade to anything but WebSocket (curl's `Upgrade: h2c`) as
/// the plain request it also is, as RFC 9110 §7.8 lets a server do.
///
/// NIO's upgrade handler does not keep the head of a request that names an upgrade while it looks
/// for an upgrader; when none speaks the protocol it falls back to plain HTTP without that head, and
/// the connection closed with no answer. Sitting before it, this handler takes the offer (`Upgrade`)
/// out of such a head, so the request reaches the router, and asks for `Connection: close`: the
/// parser stops at the end of a request it was told is an upgrade, so nothing after it on the
/// connection could be read.
final class ForeignUpgradeFilter: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart

    /// The protocols an upgrader of the hub speaks, lower-cased.
    private let spoken: Set<String>

    init(spoken: Set<String>) {
        self.spoken = spoken
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(var head) = unwrapInboundIn(data) else { return context.fireChannelRead(data) }
        let offered = head.headers[canonicalForm: "upgrade"]
        guard !offered.isEmpty, !offered.contains(where: { spoken.contains($0.lowercased()) }) else {
            return context.fireChannelRead(data)
        }
        head.headers.remove(name: "upgrade")
        head.headers.replaceOrAdd(name: "connection", value: "close")
        context.fireChannelRead(wrapInboundOut(.head(head)))
    }
}

@available(*, unavailable)
extension ForeignUpgradeFilter: Sendable {}
