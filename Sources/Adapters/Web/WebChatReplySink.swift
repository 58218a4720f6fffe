// SPDX-License-Identifier: Apache-2.0
import Engine
import Synchronization

/// What goes out to one web client, in order: frames, then perhaps a close.
enum WebChatOutbound: Sendable, Hashable {
    case frame(WebChatFrame)
    case close(code: UInt16, reason: String)
}

/// Turns the engine's answers into web chat frames on a client's bounded send queue.
///
/// Model text arrives as `delta` frames and the end of the answer as `done`; an answer that did not
/// stream (a command, a cached answer) goes out as one `delta` and `done`. Failures, notices and
/// answers stopped before they finished become `error` frames. When the queue is full the client is
/// too slow to keep: the queue is closed, which ends the connection (or the SSE response).
final class WebChatReplySink: AnswerSink {
    let queue: BoundedQueue<WebChatOutbound>
    /// Ids of messages whose answer has sent text already.
    private let streaming = Mutex(Set<String>())
    private let overflow = Atomic<Bool>(false)

    init(queue: BoundedQueue<WebChatOutbound>) {
        self.queue = queue
    }

    var showsProgress: Bool { true }

    /// Whether frames were dropped because the client did not keep up.
    var hasOverflowed: Bool { overflow.load(ordering: .relaxed) }

    func receive(_ part: AnswerPart, answering event: ConversationEvent) async throws -> [String] {
        let id = Self.messageID(of: event)
        let streamed = streaming.withLock { streaming -> Bool in
            if case .delta = part {
                streaming.insert(id)
                return true
            }
            return part.isTerminal ? streaming.remove(id) != nil : streaming.contains(id)
        }
        for frame in WebChatFrame.frames(for: part, id: id, streamed: streamed) { send(frame) }
        guard part.isTerminal else { return [] }
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
