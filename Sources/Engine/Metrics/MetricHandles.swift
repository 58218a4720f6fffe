// SPDX-License-Identifier: Apache-2.0
import CoreMetrics
import Synchronization

/// The metric handles a ``HubMetrics`` made, by kind, label and dimensions, so that recording a
/// value looks one up instead of asking the factory again.
///
/// Asking the Prometheus factory validates the name and labels, takes its lock and searches its
/// registry: about ten times per answer, a measurable part of each one at 1,000 events/s
/// (`String.isValidMetricName` alone showed in the profile). Dimension values are the hub's own low
/// sets (doors, lanes, outcomes, configured providers and models); past ``capacity`` handles,
/// new ones are made without being kept.
final class MetricHandles: Sendable {
    enum Kind: UInt8 { case counter, timer, gauge, floatingCounter }

    private struct Key: Hashable {
        let kind: Kind
        let label: String
        let dimensions: [String]
    }

    /// Most handles kept.
    let capacity: Int
    private let handles = Mutex<[Key: any Sendable]>([:])

    init(capacity: Int = 4096) {
        self.capacity = capacity
    }

    /// The handle of `kind` for `label` and `dimensions`, made by `make` the first time.
    func handle<Handle: Sendable>(
        _ kind: Kind, _ label: String, _ dimensions: [(String, String)], make: () -> Handle
    ) -> Handle {
        var flat = [String]()
        flat.reserveCapacity(dimensions.count * 2)
        for (name, value) in dimensions {
            flat.append(name)
            flat.append(value)
        }
        let key = Key(kind: kind, label: label, dimensions: flat)
        if let known = handles.withLock({ $0[key] }) as? Handle { return known }
        let made = make()
        handles.withLock { handles in
            if handles.count < capacity { handles[key] = made }
        }
        return made
    }
}
