// SPDX-License-Identifier: Apache-2.0

/// One server-sent event.
public struct ServerSentEvent: Sendable, Hashable {
    public var event: String?
    public var data: String
    public var id: String?
}

/// An incremental parser for `text/event-stream` (the WHATWG server-sent events format).
///
/// Feed it bytes as they arrive, in chunks of any size; it returns the events completed so far.
/// Handles `\n`, `\r\n` and `\r` line ends (also split across chunks), multi-line `data:`, comment
/// lines (`: keep-alive`), a single optional space after the colon, and a UTF-8 BOM at the start.
public struct ServerSentEventParser: Sendable {
    private var line: [UInt8] = []
    private var lastWasCR = false
    private var started = false
    private var dataLines: [String] = []
    private var hasData = false
    private var eventName: String?
    private var lastID: String?
    /// Bytes of the line being read are capped; a longer line is a malformed stream.
    public let maxLineBytes: Int
    /// How many comment lines were seen (keep-alives).
    public private(set) var commentCount = 0

    public init(maxLineBytes: Int = 4 << 20) {
        self.maxLineBytes = maxLineBytes
    }

    /// An error for a line longer than ``maxLineBytes``.
    public struct LineTooLong: Error, Sendable {}

    /// Consumes `bytes` and returns the events they completed.
    public mutating func feed(_ bytes: some Sequence<UInt8>) throws(LineTooLong) -> [ServerSentEvent] {
        var events = [ServerSentEvent]()
        for byte in bytes {
            if byte == 0x0A, lastWasCR {
                lastWasCR = false
                continue
            }
            lastWasCR = false
            if byte == 0x0A || byte == 0x0D {
                lastWasCR = byte == 0x0D
                if let event = processLine() { events.append(event) }
                line.removeAll(keepingCapacity: true)
            } else {
                line.append(byte)
                if line.count > maxLineBytes { throw LineTooLong() }
            }
        }
        return events
    }

    /// Ends the stream: an event without its final blank line is dropped, as the format says.
    public mutating func finish() -> [ServerSentEvent] {
        line.removeAll()
        dataLines.removeAll()
        hasData = false
        eventName = nil
        return []
    }

    private mutating func processLine() -> ServerSentEvent? {
        var bytes = line[...]
        if !started {
            started = true
            if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = bytes.dropFirst(3) }
        }
        if bytes.isEmpty {
            defer {
                dataLines.removeAll()
                hasData = false
                eventName = nil
            }
            guard hasData else { return nil }
            return ServerSentEvent(event: eventName, data: dataLines.joined(separator: "\n"), id: lastID)
        }
        if bytes.first == UInt8(ascii: ":") {
            commentCount += 1
            return nil
        }
        let field: String
        var value: ArraySlice<UInt8> = []
        if let colon = bytes.firstIndex(of: UInt8(ascii: ":")) {
            field = String(decoding: bytes[bytes.startIndex..<colon], as: UTF8.self)
            value = bytes[(colon + 1)...]
            if value.first == UInt8(ascii: " ") { value = value.dropFirst() }
        } else {
            field = String(decoding: bytes, as: UTF8.self)
        }
        let text = String(decoding: value, as: UTF8.self)
        switch field {
        case "data":
            dataLines.append(text)
            hasData = true
        case "event": eventName = text
        case "id": lastID = text
        default: break
        }
        return nil
    }
}
