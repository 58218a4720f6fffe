// SPDX-License-Identifier: Apache-2.0
import Testing

@testable import Adapters

@Suite struct VoiceOutboxTests {
    @Test func messagesAndAudioComeOutInTheOrderQueued() async {
        let outbox = VoiceOutbox()
        let epoch = outbox.epoch
        outbox.send("start")
        #expect(await outbox.sendAudio([1], epoch: epoch))
        outbox.sendAfterPlayback("stop")
        var items = [VoiceOutbox.Item]()
        for _ in 0..<3 { if let entry = await outbox.next() { items.append(entry.item) } }
        #expect(items == [.text("start"), .audio([1]), .afterPlayback("stop")])
    }

    @Test func aProducerWaitsForRoomAndGoesOnWhenTheWriterTakesAFrame() async {
        let outbox = VoiceOutbox(audioCapacity: 2)
        let epoch = outbox.epoch
        #expect(await outbox.sendAudio([1], epoch: epoch))
        #expect(await outbox.sendAudio([2], epoch: epoch))
        let third = Task { await outbox.sendAudio([3], epoch: epoch) }
        // The third frame goes in only once the writer has taken the first.
        #expect(await outbox.next()?.item == .audio([1]))
        #expect(await third.value)
        #expect(await outbox.next()?.item == .audio([2]))
        #expect(await outbox.next()?.item == .audio([3]))
    }

    @Test func aFlushDropsWhatIsQueuedAndTellsWaitingProducersTheirAudioIsNotWanted() async {
        let outbox = VoiceOutbox(audioCapacity: 1)
        let old = outbox.epoch
        outbox.send("sentence")
        #expect(await outbox.sendAudio([1], epoch: old))
        let waiting = Task { await outbox.sendAudio([2], epoch: old) }
        // Whether the producer was already waiting or not, the flush tells it the frame is not wanted.
        let new = outbox.flush()
        #expect(!(await waiting.value))
        #expect(new != old)
        #expect(!outbox.isCurrent(old))
        #expect(!(await outbox.sendAudio([3], epoch: old)))
        outbox.send("tts stop")
        let entry = await outbox.next()
        #expect(entry == .init(item: .text("tts stop"), epoch: new))
    }

    @Test func messagesBeyondTheBoundAreDroppedAndCounted() async {
        let outbox = VoiceOutbox(messageCapacity: 2)
        #expect(outbox.send("a"))
        #expect(outbox.send("b"))
        #expect(!outbox.send("c"))
        #expect(outbox.droppedMessages == 1)
    }

    @Test func closingEndsTheWriterAndStopsProducers() async {
        let outbox = VoiceOutbox()
        let reader = Task { await outbox.next() }
        outbox.close()
        #expect(await reader.value == nil)
        #expect(!(await outbox.sendAudio([1], epoch: outbox.epoch)))
        #expect(!outbox.send("late"))
    }
}

@Suite struct PlaybackScheduleTests {
    @Test func framesGoAtOnceUntilTheLeadIsFilledThenOneFrameAtATime() {
        var schedule = PlaybackSchedule(frameDuration: .milliseconds(60), lead: .milliseconds(300))
        let start = ContinuousClock.now
        // Five frames fill 300 ms of lead: all sent at once.
        for _ in 0..<5 {
            #expect(schedule.sendTime(now: start) == start)
            schedule.sent(at: start)
        }
        // The sixth waits until the device holds less than 300 ms: 60 ms later.
        #expect(schedule.sendTime(now: start) == start + .milliseconds(60))
        schedule.sent(at: start + .milliseconds(60))
        #expect(schedule.sendTime(now: start + .milliseconds(60)) == start + .milliseconds(120))
        #expect(schedule.playedOut(now: start + .milliseconds(60)) == start + .milliseconds(360))
    }

    @Test func aDeviceThatRanDryPlaysTheNextFrameAtOnce() {
        var schedule = PlaybackSchedule(frameDuration: .milliseconds(60), lead: .milliseconds(120))
        let start = ContinuousClock.now
        schedule.sent(at: start)
        let later = start + .seconds(5)
        #expect(schedule.sendTime(now: later) == later)
        schedule.sent(at: later)
        #expect(schedule.playedOut(now: later) == later + .milliseconds(60))
        schedule.reset()
        #expect(schedule.playedOut(now: later) == later)
    }
}
