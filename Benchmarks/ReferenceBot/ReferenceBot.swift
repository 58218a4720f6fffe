// SPDX-License-Identifier: Apache-2.0
import ArgumentParser
import AsyncHTTPClient
import Foundation
import GRDB
import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOFoundationCompat
import NIOHTTP1

/// The yardstick of the QQ door's throughput: the naive bot anyone would write on the hub's own
/// parts, and nothing more. It accepts reverse WebSocket connections from OneBot implementations,
/// decodes each frame with `JSONDecoder`, and for each private message event makes one
/// AsyncHTTPClient call to the upstream, inserts one row with GRDB, and replies with `send_msg`.
/// No dedupe, no policy, no history, no routing, no accounting, no limits; one task per event.
///
/// ```
/// ReferenceBot --port 0 --upstream http://127.0.0.1:9000/v1 --database /tmp/ref.sqlite
/// ```
@main
struct ReferenceBot: AsyncParsableCommand {
    @Option(help: "Port to listen on (0: any free port; the chosen one is printed).") var port = 0
    @Option(help: "The OpenAI-compatible upstream's base URL.") var upstream: String
    @Option(help: "The SQLite file to insert into.") var database: String

    func run() async throws {
        var logger = Logger(label: "reference-bot")
        logger.logLevel = .warning
        let pool = try DatabasePool(path: database)
        try await pool.write { db in
            try db.execute(sql: "CREATE TABLE IF NOT EXISTS replies (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, question TEXT NOT NULL, answer TEXT NOT NULL)")
        }
        let bot = Bot(pool: pool, completions: upstream + "/chat/completions")
        let webSocketRouter = Router(context: BasicWebSocketRequestContext.self)
        webSocketRouter.ws("/onebot/v11/ws") { _, _ in .upgrade() } onUpgrade: { inbound, outbound, _ in
            try await bot.serve(inbound: inbound, outbound: outbound)
        }
        let app = Application(
            router: Router(), server: .http1WebSocketUpgrade(webSocketRouter: webSocketRouter),
            configuration: .init(address: .hostname("127.0.0.1", port: port)),
            onServerRunning: { channel in
                // Written straight to the file descriptor: the script reads the port from a file.
                FileHandle.standardOutput.write(Data("reference bot listening on \(channel.localAddress?.port ?? 0)\n".utf8))
            },
            logger: logger)
        try await app.runService()
    }
}

/// The bot's work for each connection.
struct Bot: Sendable {
    let pool: DatabasePool
    let completions: String

    /// The fields of an event the bot reads.
    struct Event: Decodable {
        var postType: String
        var messageType: String?
        var userID: Int64?
        var rawMessage: String?

        enum CodingKeys: String, CodingKey {
            case postType = "post_type"
            case messageType = "message_type"
            case userID = "user_id"
            case rawMessage = "raw_message"
        }
    }

    struct ChatRequest: Encodable {
        struct Message: Encodable {
            var role: String
            var content: String
        }

        var model = "bench-model"
        var messages: [Message]
    }

    struct ChatResponse: Decodable {
        struct Choice: Decodable {
            struct Message: Decodable { var content: String }
            var message: Message
        }

        var choices: [Choice]
    }

    struct Action: Encodable {
        struct Params: Encodable {
            var messageType = "private"
            var userID: Int64
            var message: String

            enum CodingKeys: String, CodingKey {
                case messageType = "message_type"
                case userID = "user_id"
                case message
            }
        }

        var action = "send_msg"
        var params: Params
        var echo: String
    }

    func serve(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async throws {
        // One writer for the connection; each event's task hands its reply over.
        let (replies, replySink) = AsyncStream.makeStream(of: String.self)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for await reply in replies { try await outbound.write(.text(reply)) }
            }
            var sequence = 0
            for try await message in inbound.messages(maxSize: 1 << 20) {
                guard case .text(let text) = message else { continue }
                sequence += 1
                let echo = String(sequence)
                group.addTask {
                    if let reply = try? await answer(text, echo: echo) { replySink.yield(reply) }
                }
            }
            replySink.finish()
            try await group.waitForAll()
        }
    }

    /// Decode, one upstream call, one insert, the reply frame; nil for frames that are not messages.
    func answer(_ frame: String, echo: String) async throws -> String? {
        let event = try JSONDecoder().decode(Event.self, from: Data(frame.utf8))
        guard event.postType == "message", event.messageType == "private", let user = event.userID else { return nil }
        let question = event.rawMessage ?? ""
        var request = HTTPClientRequest(url: completions)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(data: try JSONEncoder().encode(ChatRequest(messages: [.init(role: "user", content: question)]))))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 1 << 20)
        let answer = try JSONDecoder().decode(ChatResponse.self, from: body).choices.first?.message.content ?? ""
        try await pool.write { db in
            try db.execute(sql: "INSERT INTO replies (user_id, question, answer) VALUES (?, ?, ?)", arguments: [user, question, answer])
        }
        let action = Action(params: .init(userID: user, message: answer), echo: echo)
        return String(decoding: try JSONEncoder().encode(action), as: UTF8.self)
    }
}
