// SPDX-License-Identifier: Apache-2.0

/// Gets the media of a received message the way its door can: from the message itself
/// (`base64://`), through the platform (OneBot's `get_record`), or from a URL, guarded like every
/// fetch made on a user's behalf.
public protocol MediaSource: Sendable {
    /// The audio of a voice message `reference` of `event`.
    /// - Throws: ``SpeechError`` of kind `badInput` when it cannot be had (gone, refused, too large,
    ///   a format nobody here decodes).
    func audio(_ reference: MediaReference, of event: ConversationEvent) async throws -> AudioInput
}
