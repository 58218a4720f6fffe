// SPDX-License-Identifier: Apache-2.0
import Engine
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// The image routes, on the `batch` lane's durable jobs (``JobQueue``):
///
/// - `POST /api/v1/image/generate` (the seed's shape) → `202 {"task_id","status":"queued","position"}`;
/// - `GET /api/v1/task/status/{task_id}` → ``TaskStatus``; `DELETE` cancels a queued or running task;
/// - `POST /v1/images/generations` (OpenAI's shape): waits for its job up to `image.wait_timeout`,
///   then answers the pictures as URLs or base64 (504 naming the task when the wait ran out);
/// - `GET /media/{id}.{ext}`: the pictures, by their unguessable names, for `storage.media_ttl`.
///
/// Everything but `/media/` is behind the gateway's API keys. A full queue is 429 with `Retry-After`.
public struct ImageAPI: Sendable {
    let images: ImageJobs
    /// `gateway.api_keys`; empty: open.
    let apiKeys: [String]
    let maxBodyBytes: Int
    /// How long `POST /v1/images/generations` waits for its job.
    let waitTimeout: Duration
    let logger: Logger
    private let fileIO = FileIO()

    public init(images: ImageJobs, apiKeys: [String], maxBodyBytes: Int, waitTimeout: Duration, logger: Logger) {
        self.images = images
        self.apiKeys = apiKeys
        self.maxBodyBytes = maxBodyBytes
        self.waitTimeout = waitTimeout
        self.logger = logger
    }

    public func addRoutes<Context: RequestContext>(to router: Router<Context>) {
        router.get("/media/:file") { request, context in
            try await self.media(request, context: context)
        }
        let gateway = router.group().add(middleware: OpenAIKeyMiddleware<Context>(keys: apiKeys))
        gateway.post("/api/v1/image/generate") { request, _ in
            let body = try await request.decodeJSON(ImageGenerateBody.self, maxBytes: maxBodyBytes) { HubError($0, $1) }
            let imageRequest = body.request(defaultWidth: images.width, defaultHeight: images.height)
            let ticket = try await submit(imageRequest, priority: body.priority ?? .normal) { status, message, retryAfter in
                HubError(status, message, headers: retryAfter.map { [.retryAfter: "\($0)"] } ?? [:])
            }
            return try Response.encoded(
                ["task_id": JSONValue.string(ticket.job.id), "status": .string(ticket.job.state.rawValue), "position": .int(Int64(ticket.position))],
                status: .accepted, headers: [.location: "/api/v1/task/status/\(ticket.job.id)"])
        }
        gateway.get("/api/v1/task/status/:task_id") { request, context in
            let id = try taskID(context)
            guard let (job, position) = try await images.queue.status(id) else { throw HubError(.notFound, "No task \(id).") }
            return try Response.encoded(TaskStatus(job, position: position, origin: PublicOrigin.httpOrigin(of: request)))
        }
        gateway.delete("/api/v1/task/status/:task_id") { request, context in
            let id = try taskID(context)
            guard let job = try await images.queue.cancel(id) else { throw HubError(.notFound, "No task \(id).") }
            if job.state != .cancelled {
                throw HubError(.conflict, "Task \(id) has \(job.state.rawValue) already; it cannot be cancelled.")
            }
            logger.info("task cancelled", metadata: ["hub.job": "\(id)"])
            return try Response.encoded(TaskStatus(job, position: nil, origin: PublicOrigin.httpOrigin(of: request)))
        }
        gateway.post("/v1/images/generations") { request, _ in
            let body = try await request.decodeJSON(OpenAIImageGenerationBody.self, maxBytes: maxBodyBytes) { status, message in
                OpenAIError(status: status, message: message, type: "invalid_request_error")
            }
            let imageRequest = try body.request(defaultWidth: images.width, defaultHeight: images.height)
            let ticket = try await submit(imageRequest, priority: .normal) { status, message, retryAfter in
                OpenAIError(
                    status: status, message: message, type: status == .tooManyRequests ? "rate_limit_error" : "invalid_request_error",
                    retryAfter: retryAfter)
            }
            guard let job = try await images.queue.wait(for: ticket.job.id, timeout: waitTimeout), job.state.isFinished else {
                throw OpenAIError(
                    status: .gatewayTimeout,
                    message: "The picture is not ready yet; it is still being made as task \(ticket.job.id) (GET /api/v1/task/status/\(ticket.job.id)).",
                    type: "api_error", code: "timeout")
            }
            switch job.state {
            case .succeeded:
                let origin = PublicOrigin.httpOrigin(of: request) ?? ""
                let data = try job.result.map { file -> OpenAIImagesResponse.Datum in
                    guard body.responseFormat == "b64_json" else { return .init(url: origin + file.urlPath) }
                    guard let bytes = images.media.read(file) else {
                        throw OpenAIError(status: .internalServerError, message: "The picture was made but cannot be read.", type: "api_error")
                    }
                    return .init(b64JSON: Data(bytes).base64EncodedString())
                }
                return try Response.encoded(OpenAIImagesResponse(created: Int(job.createdAt.timeIntervalSince1970), data: data))
            default:
                throw OpenAIError(
                    status: .badGateway, message: "The picture could not be made: \(job.error ?? job.state.rawValue)", type: "api_error",
                    code: "image_generation_failed")
            }
        }
    }

    // MARK: Helpers

    /// Queues `request` after checking it; failures through `fail` (status, message, `Retry-After` seconds).
    private func submit(
        _ request: ImageRequest, priority: JobPriority, error fail: (HTTPResponse.Status, String, Int?) -> any Error
    ) async throws -> JobQueue.Ticket {
        do {
            try request.validate()
        } catch let error as ImageError {
            throw fail(.badRequest, error.message, nil)
        }
        guard images.isConfigured else { throw fail(.serviceUnavailable, "No image generator is configured.", nil) }
        let payload = String(decoding: try JSONEncoder().encode(request), as: UTF8.self)
        do {
            let ticket = try await images.queue.submit(kind: ImageJobRunner.kind, payload: payload, priority: priority)
            logger.info("image task queued", metadata: ["hub.job": "\(ticket.job.id)", "hub.priority": "\(priority.rawValue)", "hub.position": "\(ticket.position)"])
            return ticket
        } catch let full as JobQueue.Full {
            let seconds = full.retryAfter.retryAfterSeconds
            throw fail(.tooManyRequests, "Too many image tasks are queued; try again in \(seconds) s.", seconds)
        }
    }

    private func taskID(_ context: some RequestContext) throws -> String {
        let id = context.parameters.get("task_id") ?? ""
        guard JobRecord.isValidID(id) else { throw HubError(.notFound, "No task \(id.prefix(64)).") }
        return id
    }

    private func media(_ request: Request, context: some RequestContext) async throws -> Response {
        let name = context.parameters.get("file") ?? ""
        guard let url = images.media.url(forName: name), FileManager.default.fileExists(atPath: url.path) else {
            throw HubError(.notFound, "No such picture (pictures are kept for a limited time).")
        }
        let format = GeneratedImage.Format.allCases.first { name.hasSuffix("." + $0.fileExtension) } ?? .png
        let body = try await fileIO.loadFile(path: url.path, context: context)
        return Response(
            status: .ok,
            headers: [
                .contentType: format.mediaType, .cacheControl: "private, max-age=3600, immutable", HTTPField.Name("X-Content-Type-Options")!: "nosniff",
            ], body: body)
    }
}
