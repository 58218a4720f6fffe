// SPDX-License-Identifier: Apache-2.0

/// When the next answer audio frame may go to a device that plays at its own clock: a frame is sent
/// when the device would then hold at most ``lead`` of unplayed audio, so the first few go at once
/// and the rest one per frame duration — never more than ``lead`` ahead of playback (an ESP32 drops
/// frames beyond its 40-packet queue, 2.4 s of 60 ms frames).
struct PlaybackSchedule: Sendable {
    /// Length of each frame.
    let frameDuration: Duration
    /// Most unplayed audio the device holds once a frame is sent.
    let lead: Duration
    /// When the audio sent so far ends playing; nil before the first frame.
    private(set) var playEnd: ContinuousClock.Instant?

    init(frameDuration: Duration, lead: Duration) {
        self.frameDuration = frameDuration
        self.lead = lead
    }

    /// When the next frame may be sent, given the time now.
    func sendTime(now: ContinuousClock.Instant) -> ContinuousClock.Instant {
        guard let playEnd, playEnd > now else { return now }
        let earliest = playEnd + frameDuration - lead
        return earliest > now ? earliest : now
    }

    /// Records a frame sent at `now`. A device that ran dry starts playing it at once.
    mutating func sent(at now: ContinuousClock.Instant) {
        let start = playEnd.map { $0 > now ? $0 : now } ?? now
        playEnd = start + frameDuration
    }

    /// When everything sent so far has been played (now, when it has).
    func playedOut(now: ContinuousClock.Instant) -> ContinuousClock.Instant {
        guard let playEnd, playEnd > now else { return now }
        return playEnd
    }

    /// Forgets what was sent: the device's queue was cleared (a new answer, an abort).
    mutating func reset() { playEnd = nil }
}
