// SPDX-License-Identifier: Apache-2.0
import NIOCore
import Synchronization

/// What one voice connection sends, in order: messages at once, answer audio frames paced at real
/// time a little ahead of playback, and messages that wait until the device has played what came
/// before them (`tts stop`).
///
/// Everything queued belongs to an *epoch*. ``flush()`` starts a new one (barge-in, `abort`): what
/// the old epoch still holds is dropped, a producer waiting for room is told its audio is no longer
/// wanted, and the writer skips whatever old item it holds. Audio is bounded
/// (``audioCapacity`` frames): a producer that gets ahead waits for room; messages are bounded too
/// (``messageCapacity``), beyond which they are dropped and counted, since a device that reads
/// nothing must not make the hub hold an unbounded backlog.
final class VoiceOutbox: Sendable {
    /// One thing to send.
    enum Item: Sendable, Equatable {
        /// A JSON message, sent as soon as what is before it has been.
        case text(String)
        /// One audio frame of the answer, paced.
        case audio([UInt8])
        /// A JSON message sent once the device has played every frame before it.
        case afterPlayback(String)
    }

    /// An item and the epoch it was queued in.
    struct Entry: Sendable, Equatable {
        var item: Item
        var epoch: UInt64
    }

    private struct State {
        var entries = CircularBuffer<Entry>()
        var audioQueued = 0
        var epoch: UInt64 = 0
        var closed = false
        var reader: CheckedContinuation<Entry?, Never>?
        /// Producers of audio waiting for room, with the epoch they produce for.
        var producers: [(epoch: UInt64, continuation: CheckedContinuation<Bool, Never>)] = []
        var droppedMessages = 0

        /// Appends `entry`, or hands it straight to a waiting reader (returned, to be resumed outside
        /// the lock; the entry is then not queued).
        mutating func push(_ entry: Entry) -> CheckedContinuation<Entry?, Never>? {
            if let reader {
                self.reader = nil
                if case .audio = entry.item { audioQueued -= 1 }
                return reader
            }
            entries.append(entry)
            return nil
        }
    }

    /// Most audio frames queued at once.
    let audioCapacity: Int
    /// Most messages queued at once.
    let messageCapacity: Int
    private let state = Mutex(State())

    init(audioCapacity: Int = 200, messageCapacity: Int = 256) {
        self.audioCapacity = max(1, audioCapacity)
        self.messageCapacity = max(1, messageCapacity)
    }

    /// The current epoch: what a producer passes to ``sendAudio(_:epoch:)``.
    var epoch: UInt64 { state.withLock { $0.epoch } }

    /// Whether `epoch` is still the current one.
    func isCurrent(_ epoch: UInt64) -> Bool { state.withLock { $0.epoch == epoch } }

    /// Messages dropped because the queue was full.
    var droppedMessages: Int { state.withLock { $0.droppedMessages } }

    /// Queues a message for the current epoch; false when it was dropped (full or closed).
    @discardableResult
    func send(_ text: String) -> Bool { enqueueMessage(.text(text)) }

    /// Queues a message to go once what is queued before it has been played.
    @discardableResult
    func sendAfterPlayback(_ text: String) -> Bool { enqueueMessage(.afterPlayback(text)) }

    private func enqueueMessage(_ item: Item) -> Bool {
        let (accepted, handOff) = state.withLock { state -> (Bool, (CheckedContinuation<Entry?, Never>, Entry)?) in
            guard !state.closed else { return (false, nil) }
            guard state.entries.count - state.audioQueued < messageCapacity else {
                state.droppedMessages += 1
                return (false, nil)
            }
            let entry = Entry(item: item, epoch: state.epoch)
            return (true, state.push(entry).map { ($0, entry) })
        }
        if let (reader, entry) = handOff { reader.resume(returning: entry) }
        return accepted
    }

    /// Queues one audio frame of `epoch`, waiting while ``audioCapacity`` frames are queued. False
    /// when the frame is not wanted any more (the epoch ended, or the outbox closed): stop producing.
    func sendAudio(_ frame: [UInt8], epoch: UInt64) async -> Bool {
        while true {
            enum Step { case sent(CheckedContinuation<Entry?, Never>?), unwanted, wait }
            let step: Step = state.withLock { state in
                guard !state.closed, state.epoch == epoch else { return .unwanted }
                guard state.audioQueued < audioCapacity else { return .wait }
                state.audioQueued += 1
                return .sent(state.push(Entry(item: .audio(frame), epoch: epoch)))
            }
            switch step {
            case .sent(let reader):
                reader?.resume(returning: Entry(item: .audio(frame), epoch: epoch))
                return true
            case .unwanted:
                return false
            case .wait:
                let roomMade = await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                    let resumeNow: Bool? = state.withLock { state in
                        guard !state.closed, state.epoch == epoch else { return false }
                        guard state.audioQueued >= audioCapacity else { return true }
                        state.producers.append((epoch, continuation))
                        return nil
                    }
                    if let resumeNow { continuation.resume(returning: resumeNow) }
                }
                if !roomMade { return false }
            }
        }
    }

    /// Starts a new epoch: drops everything queued, releases waiting producers (their audio is not
    /// wanted), and returns the new epoch.
    @discardableResult
    func flush() -> UInt64 {
        let (epoch, producers) = state.withLock { state -> (UInt64, [CheckedContinuation<Bool, Never>]) in
            state.epoch &+= 1
            state.entries.removeAll()
            state.audioQueued = 0
            let producers = state.producers.map(\.continuation)
            state.producers.removeAll()
            return (state.epoch, producers)
        }
        for producer in producers { producer.resume(returning: false) }
        return epoch
    }

    /// The next entry for the writer; nil once closed (what was queued is dropped).
    func next() async -> Entry? {
        await withCheckedContinuation { (continuation: CheckedContinuation<Entry?, Never>) in
            enum Ready { case entry(Entry), closed, wait }
            var released: [CheckedContinuation<Bool, Never>] = []
            let ready: Ready = state.withLock { state in
                if state.closed { return .closed }
                guard let entry = state.entries.popFirst() else {
                    state.reader = continuation
                    return .wait
                }
                if case .audio = entry.item {
                    state.audioQueued -= 1
                    released = state.producers.map(\.continuation)
                    state.producers.removeAll()
                }
                return .entry(entry)
            }
            for producer in released { producer.resume(returning: true) }
            switch ready {
            case .entry(let entry): continuation.resume(returning: entry)
            case .closed: continuation.resume(returning: nil)
            case .wait: break
            }
        }
    }

    /// Ends the outbox: the writer's ``next()`` returns nil, producers are told to stop.
    func close() {
        let (reader, producers) = state.withLock { state -> (CheckedContinuation<Entry?, Never>?, [CheckedContinuation<Bool, Never>]) in
            state.closed = true
            state.entries.removeAll()
            state.audioQueued = 0
            let reader = state.reader
            state.reader = nil
            let producers = state.producers.map(\.continuation)
            state.producers.removeAll()
            return (reader, producers)
        }
        reader?.resume(returning: nil)
        for producer in producers { producer.resume(returning: false) }
    }
}
