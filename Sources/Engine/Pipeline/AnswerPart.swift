// SPDX-License-Identifier: Apache-2.0

/// One part of the engine's answer to an event: what every door consumes.
///
/// An answer is zero or more progress parts (``delta(_:)`` for doors whose
/// ``AnswerSink/showsProgress`` is true, ``sentence(_:)`` for those whose
/// ``AnswerSink/wantsSentences`` is also true), then exactly one terminal part: ``final(_:)``,
/// ``notice(_:reason:)``, ``failure(_:)`` or ``cancelled``.
///
/// ```swift
/// switch part {
/// case .delta(let text): show(text)
/// case .final(let reply): finish(reply.text, model: reply.model, usage: reply.usage)
/// case .notice(let reply, _), .failure(let reply, _): tell(reply.text)
/// case .sentence, .cancelled: break
/// }
/// ```
public enum AnswerPart: Sendable, Hashable {
    /// The next piece of the model's text, as it is written.
    case delta(String)
    /// A sentence of the answer has ended: its text (for doors that speak sentence by sentence).
    case sentence(String)
    /// The whole reply (from the model or a command), with its model and usage. A group reply
    /// starts with the quote of the message it answers and a mention of its sender.
    case final(Reply)
    /// The message was not answered (busy, over a rate limit, taken by another hub): why, and the
    /// short text for the user (``Reply/kind`` is ``Reply/Kind/notice``; empty when the user
    /// should not be told again within the period).
    case notice(Reply, reason: ConversationEngine.Admission)
    /// The message was taken but could not be answered; the text apologises. `error` is the
    /// router's when every route failed (for doors that report it, as the OpenAI API does).
    case failure(Reply, error: ChatProviderError? = nil)
    /// The turn was stopped (`/stop`, `/reset`, the client went away) before it finished; nothing of
    /// it was stored.
    case cancelled

    /// Whether this part ends the answer.
    public var isTerminal: Bool {
        switch self {
        case .delta, .sentence: false
        case .final, .notice, .failure, .cancelled: true
        }
    }
}

/// Where the engine sends the parts of an answer: a door's connection to the platform.
public protocol AnswerSink: Sendable {
    /// Whether the door shows an answer while it is written; only then does it get
    /// ``AnswerPart/delta(_:)`` parts.
    var showsProgress: Bool { get }

    /// Whether the door also wants each sentence as it ends (a door that speaks); default false.
    var wantsSentences: Bool { get }

    /// Whether the door can deliver ``ReplyPart/audio(bytes:format:)`` parts, so that a session
    /// with `/voice on` is worth speaking to; default false.
    var deliversAudio: Bool { get }

    /// Where the audio of this door's voice messages comes from; nil (the default) when the door
    /// receives none.
    var media: (any MediaSource)? { get }

    /// Takes the next part of the answer to `event` and returns the platform ids of the messages it
    /// sent for it (so that a user's reply to one of them addresses the bot). The engine waits for
    /// it: a slow door slows its own answer, never another door's.
    func receive(_ part: AnswerPart, answering event: ConversationEvent) async throws -> [String]
}

extension AnswerSink {
    public var wantsSentences: Bool { false }
    public var deliversAudio: Bool { false }
    public var media: (any MediaSource)? { nil }
}
