// SPDX-License-Identifier: Apache-2.0
import Engine
import Synchronization

/// Delivers a finished job (a `/draw` picture, or why it failed) to every tab a web client has
/// open now, as an answer of its own (message id `{the /draw message's id}-result`). A client
/// with no tab open loses nothing: the engine put the picture in the session's history, which the
/// page loads when it comes back.
struct WebChatJobSink: AnswerSink {
    let door: WebChatDoor

    var showsProgress: Bool { false }

    func receive(_ part: AnswerPart, answering event: ConversationEvent) async throws -> [String] {
        let id = WebChatReplySink.messageID(of: event) + "-result"
        let sinks = door.live.withLock { live in live[event.scope.user].map { Array($0.values) } ?? [] }
        for sink in sinks {
            for frame in WebChatFrame.frames(for: part, id: id, streamed: false) { sink.send(frame) }
        }
        return [id]
    }
}
