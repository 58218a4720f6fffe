// SPDX-License-Identifier: Apache-2.0

/// A sink for answers nobody is connected to receive, such as a replayed web chat message whose
/// tab is gone: the answer is in the session's history, which the door shows when the client
/// comes back, so there is nothing to send.
public struct HistoryOnlySink: AnswerSink {
    public init() {}

    public var showsProgress: Bool { false }

    public func receive(_ part: AnswerPart, answering event: ConversationEvent) async throws -> [String] { [] }
}
