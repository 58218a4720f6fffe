// SPDX-License-Identifier: Apache-2.0

/// A door that shows an answer while the model is still writing it (the web chat).
///
/// The engine streams model answers to such a sink: ``deliverDelta(_:answering:)`` for each piece
/// of text as it arrives, then ``ReplySink/deliver(_:answering:)`` once with the whole reply
/// (never split at ``EngineSettings/maxReplyLength``), which the door takes as the end of the
/// answer. Commands, cached answers and notices arrive through `deliver` alone.
public protocol StreamingReplySink: ReplySink {
    /// Shows the next piece of the answer to `event`. Never throws: a reader that went away must
    /// not stop the answer from being finished and remembered.
    func deliverDelta(_ text: String, answering event: ConversationEvent) async
}
