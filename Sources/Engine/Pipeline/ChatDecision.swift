// SPDX-License-Identifier: Apache-2.0

/// What the chat policy decided about an event.
public enum ChatDecision: Sendable, Hashable {
    /// Why an event gets no answer.
    public enum IgnoreReason: String, Sendable, Hashable {
        /// The bot wrote it.
        case fromSelf = "from_self"
        /// A group message that did not address the bot.
        case notAddressed = "not_addressed"
    }

    /// No answer.
    case ignore(IgnoreReason)
    /// Run a command.
    case command(ChatCommand)
    /// Ask the model; the text is the user's message with the trigger (mention, prefix, nickname)
    /// removed. Empty when the user only addressed the bot.
    case chat(String)
}
