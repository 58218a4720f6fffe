// SPDX-License-Identifier: Apache-2.0
import Foundation

/// Runs `image` jobs: the payload is an ``ImageRequest`` (JSON); the ``ImageGenerationRouter``
/// draws it and the ``MediaStore`` keeps the pictures.
public struct ImageJobRunner: JobRunner {
    /// The ``JobRecord/kind`` of image jobs.
    public static let kind = "image"

    let router: ImageGenerationRouter
    let media: MediaStore

    public init(router: ImageGenerationRouter, media: MediaStore) {
        self.router = router
        self.media = media
    }

    public func run(_ job: JobRecord) async throws -> [MediaFile] {
        let request: ImageRequest
        do {
            request = try JSONDecoder().decode(ImageRequest.self, from: Data(job.payload.utf8))
        } catch {
            throw JobFailure("the job's request could not be read", retryable: false)
        }
        let routed: ImageGenerationRouter.Routed
        do {
            routed = try await router.generate(request)
        } catch let error as ImageError {
            switch error.kind {
            case .badInput, .notConfigured: throw JobFailure(error.message, retryable: false)
            default: throw JobFailure(Self.explained(error), retryable: true)
            }
        }
        do {
            return try routed.images.map { try media.save($0) }
        } catch {
            throw JobFailure("the picture could not be stored", retryable: true)
        }
    }

    /// A provider's failure in words for the person who asked: what went wrong, then the service's own words.
    static func explained(_ error: ImageError) -> String {
        switch error.kind {
        case .timeout: "the image service did not answer in time"
        case .httpStatus: "the image service answered HTTP \(error.status.map(String.init) ?? "error"): \(error.message)"
        case .transport: "the image service could not be reached (\(error.message))"
        case .malformed: "the image service's answer held no usable picture (\(error.message))"
        case .unavailable: "no image service can take it now (\(error.message))"
        case .busy: "the image service is busy (\(error.message))"
        case .badInput, .notConfigured, .unsupported: error.message
        }
    }
}
