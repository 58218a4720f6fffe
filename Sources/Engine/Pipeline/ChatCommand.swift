// SPDX-License-Identifier: Apache-2.0

/// A command a user can send in any chat door.
public enum ChatCommand: Sendable, Hashable {
    /// `/help`: what the bot can do.
    case help
    /// `/reset`: forget this conversation; cancels the answer being written and drops the messages
    /// still waiting for one.
    case reset
    /// `/stop`: cancel the answer being written.
    case stop
    /// `/model` shows the model; `/model NAME` switches to it.
    case model(String?)
    /// `/persona` shows the persona; `/persona TEXT` sets it; `/persona reset` restores the default.
    case persona(String?)
    /// `/voice` shows whether answers are spoken; `/voice on` and `/voice off` switch it.
    case voice(String?)
    /// `/draw TEXT`: an image job; the picture comes as its own message when it is ready.
    case draw(String?)

    /// The command in `text` (which starts right after the prefix), or nil when it names no command.
    public static func parse(_ text: String) -> ChatCommand? {
        let trimmed = text.trimmingSpaces
        let name: Substring
        let argument: String?
        if let space = trimmed.firstIndex(where: { $0.isWhitespace }) {
            name = trimmed[..<space]
            let rest = trimmed[space...].drop(while: { $0.isWhitespace })
            argument = rest.isEmpty ? nil : String(rest)
        } else {
            name = trimmed
            argument = nil
        }
        switch name.lowercased() {
        case "help": return .help
        case "reset": return .reset
        case "stop": return .stop
        case "model": return .model(argument)
        case "persona": return .persona(argument)
        case "voice": return .voice(argument)
        case "draw", "画": return .draw(argument)
        default: return nil
        }
    }
}

extension Substring {
    var trimmingSpaces: Substring {
        String(self).trimmingSpaces
    }
}
