// SPDX-License-Identifier: Apache-2.0

/// Does one kind of job (``JobRecord/kind``): reads its payload, does the work, keeps the files.
public protocol JobRunner: Sendable {
    /// Runs one attempt of `job`. Throws ``JobFailure`` for a failure with words for the user;
    /// `CancellationError` when cancelled.
    func run(_ job: JobRecord) async throws -> [MediaFile]
}

/// Why an attempt of a job failed.
public struct JobFailure: Error, Sendable, Hashable {
    /// What the user is told.
    public var message: String
    /// Whether another attempt could succeed (a provider down, a timeout); false for a request no
    /// attempt can do (a bad prompt, nothing configured).
    public var retryable: Bool

    public init(_ message: String, retryable: Bool) {
        self.message = message
        self.retryable = retryable
    }
}
