// SPDX-License-Identifier: Apache-2.0
import Testing

@testable import Engine

@Suite struct BoundedQueueTests {
    @Test func boundRefusesAndOrderIsFIFO() async {
        let queue = BoundedQueue<Int>(capacity: 3)
        #expect(queue.tryEnqueue(1))
        #expect(queue.tryEnqueue(2))
        #expect(queue.tryEnqueue(3))
        #expect(!queue.tryEnqueue(4))
        #expect(queue.count == 3)
        #expect(await queue.next() == 1)
        #expect(queue.tryEnqueue(5))
        #expect(await queue.next() == 2)
        #expect(await queue.next() == 3)
        #expect(await queue.next() == 5)
        #expect(queue.count == 0)
    }

    @Test func closeDrainsThenReturnsNil() async {
        let queue = BoundedQueue<String>(capacity: 4)
        queue.tryEnqueue("a")
        queue.tryEnqueue("b")
        queue.close()
        #expect(queue.isClosed)
        #expect(!queue.tryEnqueue("c"))
        #expect(await queue.next() == "a")
        #expect(await queue.next() == "b")
        #expect(await queue.next() == nil)
        #expect(await queue.next() == nil)
    }

    @Test func waitingConsumerGetsTheNextElement() async throws {
        let queue = BoundedQueue<Int>(capacity: 0)
        try await withTimeLimit(.seconds(5)) {
            async let received = queue.next()
            // With capacity 0 an element is only taken when it can be handed to a waiting consumer,
            // so retrying until it is accepted also proves the hand-off.
            while !queue.tryEnqueue(7) { await Task.yield() }
            #expect(await received == 7)
        }
    }

    @Test func closeWakesAWaitingConsumer() async throws {
        let queue = BoundedQueue<Int>(capacity: 1)
        let consumer = Task { await queue.next() }
        try await withTimeLimit(.seconds(5)) {
            // Closing before or after the consumer starts waiting gives the same answer.
            queue.close()
            #expect(await consumer.value == nil)
        }
    }

    @Test func cancellingNextReturnsNil() async throws {
        let queue = BoundedQueue<Int>(capacity: 1)
        let consumer = Task { await queue.next() }
        consumer.cancel()
        let value = try await withTimeLimit(.seconds(5)) { await consumer.value }
        #expect(value == nil)
        // Cancellation ends the single consumer's queue.
        #expect(queue.isClosed)
    }

    @Test func cancelledConsumerStillDrainsQueuedElements() async {
        let queue = BoundedQueue<Int>(capacity: 2)
        queue.tryEnqueue(1)
        let values = await Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return [await queue.next(), await queue.next()]
        }.value
        #expect(values == [1, nil])
    }

    @Test func manyProducersOneConsumer() async throws {
        let queue = BoundedQueue<Int>(capacity: 10_000)
        try await withTimeLimit(.seconds(10)) {
            await withTaskGroup(of: Void.self) { group in
                for producer in 0..<8 {
                    group.addTask {
                        for item in 0..<500 { #expect(queue.tryEnqueue(producer * 1000 + item)) }
                    }
                }
            }
            queue.close()
            var seen = [Int: [Int]]()
            while let value = await queue.next() { seen[value / 1000, default: []].append(value % 1000) }
            #expect(seen.count == 8)
            // Each producer's elements come out in the order it put them in.
            for (_, items) in seen { #expect(items == Array(0..<500)) }
        }
    }
}
