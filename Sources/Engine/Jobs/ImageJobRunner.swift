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
            default: throw JobFailure(error.message, retryable: true)
            }
        }
        do {
            return try routed.images.map { try media.save($0) }
        } catch {
            throw JobFailure("the picture could not be stored", retryable: true)
        }
    }
}
