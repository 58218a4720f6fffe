// SPDX-License-Identifier: Apache-2.0
import Foundation
import Logging

extension ConversationEngine {
    /// `/draw PROMPT`: queues an image job that remembers the message asking for it, and answers
    /// at once with the job's place in the queue. The picture is delivered by
    /// ``deliver(_:through:)`` when the job ends, after a restart too.
    func draw(_ prompt: String?, for event: ConversationEvent) async throws -> Reply {
        let prefix = settings.policy.prefixes.first ?? "/"
        guard let images, images.isConfigured else { return .text("Drawing is not available on this hub: no image generator is configured.") }
        guard let prompt, prompt.contains(where: { !$0.isWhitespace }) else {
            return .text("Tell me what to draw, e.g. \(prefix)draw a red kite over the sea")
        }
        let request = ImageRequest(prompt: prompt, width: images.width, height: images.height)
        do {
            try request.validate()
        } catch let error as ImageError {
            return .text("I can't draw that: \(error.message).")
        }
        let payload = String(decoding: try JSONEncoder().encode(request), as: UTF8.self)
        do {
            let ticket = try await images.queue.submit(
                kind: ImageJobRunner.kind, payload: payload, priority: .normal, origin: event.journal.compactJSON)
            logger.info("image job queued", metadata: ["hub.job": "\(ticket.job.id)", "hub.event": "\(event.id)", "hub.position": "\(ticket.position)"])
            let place = ticket.position <= 1 ? "It's next in line" : "It's number \(ticket.position) in the queue"
            return .text("Drawing \(Self.quoted(prompt)). \(place); the picture comes here when it's ready.")
        } catch let full as JobQueue.Full {
            return .text("Too many pictures are waiting to be drawn. Please try again in \(full.retryAfter.retryAfterSeconds) s.", kind: .notice)
        }
    }

    /// Delivers a finished job to the chat that asked for it, through the sink its door gives
    /// (`sinks(platform)`; nil: nobody to deliver to, which counts as delivered). A picture joins the
    /// session's history as the answer to the `/draw` message; a failure is said in a short reply.
    /// Returns whether the door took it.
    public func deliver(_ job: JobRecord, through sinks: (Platform) -> (any AnswerSink)?) async -> Bool {
        guard let origin = job.origin, let value = try? JSONValue(parsing: origin), let event = ConversationEvent(journal: value) else {
            logger.warning("finished job has no chat to go to", metadata: ["hub.job": "\(job.id)"])
            return true
        }
        let prompt = (try? JSONDecoder().decode(ImageRequest.self, from: Data(job.payload.utf8)))?.prompt ?? ""
        let part: AnswerPart
        // What the history keeps once the door took the picture (not before: a delivery that
        // failed is tried again, and would add it once more).
        var exchange = [StoredMessage]()
        switch job.state {
        case .succeeded:
            let pictures = job.result.compactMap { file -> ReplyPart? in
                guard let bytes = images?.media.read(file) else { return nil }
                return .image(.hosted(path: file.urlPath, bytes: bytes, format: file.format.fileExtension))
            }
            if pictures.isEmpty {
                part = .failure(decorate(.text("The picture of \(Self.quoted(prompt)) was made but is no longer kept.", kind: .failure), for: event))
            } else {
                let caption = "Here is \(Self.quoted(prompt)):"
                let markdown = job.result.map { "![\(Self.altText(prompt))](\($0.urlPath))" }.joined(separator: "\n")
                let prefix = settings.policy.prefixes.first ?? "/"
                exchange = [
                    StoredMessage(role: .user, content: "\(prefix)draw \(prompt)", createdAt: event.receivedAt),
                    StoredMessage(role: .assistant, content: caption + "\n\n" + markdown),
                ]
                part = .final(decorate(Reply(parts: [.text(caption)] + pictures), for: event))
            }
        case .failed:
            let reason = job.error ?? "unknown error"
            part = .failure(decorate(.text("Sorry, I couldn't draw \(Self.quoted(prompt)): \(reason)", kind: .failure), for: event))
        case .queued, .running, .cancelled:
            return true
        }
        guard let sink = sinks(event.platform) else {
            await remember(exchange, for: event, job: job)
            return true
        }
        do {
            _ = try await sink.receive(part, answering: event)
            metrics.replySent(door: event.platform.rawValue, outcome: "sent")
            await remember(exchange, for: event, job: job)
            return true
        } catch {
            metrics.replySent(door: event.platform.rawValue, outcome: "failed")
            logger.warning("job result not delivered", metadata: ["hub.job": "\(job.id)", "error": "\(error)"])
            return false
        }
    }

    /// Adds a delivered picture's exchange to the session's history.
    private func remember(_ exchange: [StoredMessage], for event: ConversationEvent, job: JobRecord) async {
        guard !exchange.isEmpty else { return }
        do {
            try await store.append(exchange, to: sessionKey(for: event))
        } catch {
            logger.warning("drawn picture not kept in the history", metadata: ["hub.job": "\(job.id)", "error": "\(error)"])
        }
    }

    /// The prompt in quotes, shortened for a chat line.
    static func quoted(_ prompt: String) -> String {
        let trimmed = prompt.trimmingCharacters(in: .whitespacesAndNewlines)
        return "“" + (trimmed.count > 80 ? trimmed.prefix(79) + "…" : trimmed) + "”"
    }

    /// The prompt as an image's alternative text: one line, no brackets.
    static func altText(_ prompt: String) -> String {
        let line = prompt.map { "[]()\n\r".contains($0) ? " " : $0 }
        return String(String(line).prefix(120)).trimmingCharacters(in: .whitespaces)
    }
}
