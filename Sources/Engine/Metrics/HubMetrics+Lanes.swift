// SPDX-License-Identifier: Apache-2.0
import CoreMetrics
import Metrics

extension HubMetrics {
    /// How many jobs of `lane` wait and run now.
    public func laneDepth(lane: String, queued: Int, running: Int) {
        gauge(label: "hub_lane_queued", dimensions: [("lane", lane)]).record(queued)
        gauge(label: "hub_lane_running", dimensions: [("lane", lane)]).record(running)
    }

    /// A job of `lane` waited `duration` in its queue before it started.
    public func laneWait(lane: String, duration: Duration) {
        timer(label: "hub_lane_wait_seconds", dimensions: [("lane", lane)]).recordNanoseconds(duration.nanoseconds)
    }

    /// A job of `lane` ran for `duration`.
    public func laneRun(lane: String, duration: Duration) {
        timer(label: "hub_lane_run_seconds", dimensions: [("lane", lane)]).recordNanoseconds(duration.nanoseconds)
    }

    /// A durable job ended: `outcome` is `succeeded`, `failed`, `cancelled`, or `retried` for an
    /// attempt that failed with budget left.
    public func jobFinished(kind: String, outcome: String) {
        counter(label: "hub_jobs_total", dimensions: [("kind", kind), ("outcome", outcome)]).increment()
    }
}
