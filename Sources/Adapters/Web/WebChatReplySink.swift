// SPDX-License-Identifier: Apache-2.0
import Engine
import Synchronization

/// What goes out to one web client, in order: frames, then perhaps a close.
enum WebChatOutbound: Sendable, Hashable {
    case frame(WebChatFrame)
    case close(code: UInt16, reason: String)
}

/// Turns the engine's streamed replies into web chat frames on a client's bounded send queue.
///
/// Model text arrives as `delta` frames and the end of the answer as `done`; an answer that did not
/// stream (a command, a cached answer) goes out as one `delta` and `done`. Failures become `error`
/// frames. Notices (busy, slow down) are dropped: the door answers every refused message itself,
/// from the engine's admission verdict. When the queue is full the client is too slow to keep: the
/// queue is closed, which ends the connection (or the SSE response).
final class WebChatReplySink: StreamingReplySink {
    let queue: BoundedQueue<WebChatOutbound>
    /// Ids of messages whose answer has sent text already.
    private let streaming = Mutex(Set<String>())
    private let overflow = Atomic<Bool>(false)

    init(queue: BoundedQueue<WebChatOutbound>) {
        self.queue = queue
    }

    /// Whether frames were dropped because the client did not keep up.
    var hasOverflowed: Bool { overflow.load(ordering: .relaxed) }

    func deliverDelta(_ text: String, answering event: ConversationEvent) async {
        let id = Self.messageID(of: event)
        streaming.withLock { _ = $0.insert(id) }
        send(.delta(id: id, text: text))
    }

    func deliver(_ reply: Reply, answering event: ConversationEvent) async throws -> [String] {
        let id = Self.messageID(of: event)
        let streamed = streaming.withLock { $0.remove(id) != nil }
        switch reply.kind {
        case .notice:
            return []
        case .failure:
            send(.error(id: id, message: reply.text))
        case .answer:
            if !streamed { send(.delta(id: id, text: reply.text)) }
            send(.done(id: id, usage: reply.usage, model: reply.model))
        }
        if queue.isClosed { throw WebChatDoor.ClientGone() }
        return [id]
    }

    /// Queues `frame`; closes the queue when the client stopped keeping up.
    func send(_ frame: WebChatFrame) {
        guard !queue.isClosed else { return }
        if !queue.tryEnqueue(.frame(frame)) {
            overflow.store(true, ordering: .relaxed)
            queue.close()
        }
    }

    /// Asks the writer to close the connection after the frames already queued.
    func close(code: UInt16, reason: String) {
        _ = queue.tryEnqueue(.close(code: code, reason: reason))
    }

    static func messageID(of event: ConversationEvent) -> String {
        event.platformMessageID ?? event.id
    }
}
