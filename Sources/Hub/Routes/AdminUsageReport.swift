// SPDX-License-Identifier: Apache-2.0
import Adapters
import Engine
import Foundation
import Hummingbird
import HummingbirdCore

/// `GET /admin/usage?hours=24&bucket=3600[&kind=llm]`: the usage table over time, per bucket and
/// per kind, provider and model, for the dashboard's chart.
///
/// `hours` (1–720, default 24) is how far back; `bucket` (60–86,400 seconds, default 3600) how long
/// one point is; at most 1,440 buckets. Buckets are aligned to multiples of `bucket` since 1970
/// (UTC), the last one holds now. Anything else is a 400 that names the parameter.
///
/// ```json
/// {"now": …, "hours": 24, "bucket_seconds": 3600, "from": …, "to": …, "buckets": [t0, t1, …],
///  "series": [{"kind": "llm", "provider": "deepseek", "model": "deepseek-chat",
///              "points": [{"t": …, "requests": 3, "ok": 2, "failures": 1, "cancelled": 0, "prompt_tokens": 30,
///                          "completion_tokens": 12, "tokens": 42, "cost": 0.0001, "quantity": 0, "average_latency_ms": 812}],
///              "totals": {"requests": 3, "ok": 2, "failures": 1, "cancelled": 0, "tokens": 42, "cost": 0.0001}}]}
/// ```
/// `points` holds the non-empty buckets only.
struct AdminUsageReport: Sendable {
    static let hours = 1...720
    static let bucketSeconds = 60...86_400
    static let maxBuckets = 1440
    static let kinds: Set = ["llm", "tts", "stt", "image"]

    let hours: Int
    let bucketSeconds: Int
    let kind: String?

    /// Reads and checks the query of `uri`; throws a 400 ``HubError`` naming what is wrong.
    init(query uri: URI) throws {
        let parameters = uri.queryParameters
        hours = try Self.integer(parameters.get("hours"), name: "hours", in: Self.hours, default: 24)
        bucketSeconds = try Self.integer(parameters.get("bucket"), name: "bucket", in: Self.bucketSeconds, default: 3600)
        guard (hours * 3600 + bucketSeconds - 1) / bucketSeconds <= Self.maxBuckets else {
            throw HubError(.badRequest, "hours / bucket gives more than \(Self.maxBuckets) buckets: choose a longer bucket")
        }
        if let kind = parameters.get("kind"), !kind.isEmpty {
            guard Self.kinds.contains(kind) else { throw HubError(.badRequest, "kind must be one of llm, tts, stt, image") }
            self.kind = kind
        } else {
            kind = nil
        }
    }

    private static func integer(_ text: String?, name: String, in range: ClosedRange<Int>, default value: Int) throws -> Int {
        guard let text else { return value }
        guard let number = Int(text), range.contains(number) else {
            throw HubError(.badRequest, "\(name) must be a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return number
    }

    /// The report of `ledger` at `now`.
    func json(from ledger: UsageLedger, now: Date = Date()) async throws -> JSONValue {
        let size = Double(bucketSeconds)
        let count = max(1, Int((Double(hours) * 3600 / size).rounded(.up)))
        let last = (now.timeIntervalSince1970 / size).rounded(.down) * size
        let from = Date(timeIntervalSince1970: last - Double(count - 1) * size)
        let to = Date(timeIntervalSince1970: last + size)
        let buckets = try await ledger.timeSeries(from: from, to: to, bucket: .seconds(bucketSeconds)).filter { kind == nil || $0.kind == kind }
        var order = [String]()
        var grouped = [String: [UsageBucket]]()
        for bucket in buckets {
            let key = "\(bucket.kind)\u{0}\(bucket.provider)\u{0}\(bucket.model)"
            if grouped[key] == nil { order.append(key) }
            grouped[key, default: []].append(bucket)
        }
        order.sort()
        return [
            "now": .seconds(now), "hours": .int(Int64(hours)), "bucket_seconds": .int(Int64(bucketSeconds)),
            "from": .seconds(from), "to": .seconds(to),
            "buckets": .array((0..<count).map { .seconds(from.addingTimeInterval(Double($0) * size)) }),
            "series": .array(order.map { Self.series(grouped[$0]!) }),
        ]
    }

    private static func series(_ points: [UsageBucket]) -> JSONValue {
        let first = points[0]
        let requests = points.reduce(0) { $0 + $1.requests }
        let ok = points.reduce(0) { $0 + $1.ok }
        let cancelled = points.reduce(0) { $0 + $1.cancelled }
        return [
            "kind": .string(first.kind), "provider": .string(first.provider), "model": .string(first.model),
            "points": .array(
                points.map { point in
                    [
                        "t": .seconds(point.start), "requests": .int(Int64(point.requests)), "ok": .int(Int64(point.ok)),
                        "failures": .int(Int64(point.failures)), "cancelled": .int(Int64(point.cancelled)),
                        "prompt_tokens": .int(Int64(point.promptTokens)), "completion_tokens": .int(Int64(point.completionTokens)),
                        "tokens": .int(Int64(point.promptTokens + point.completionTokens)), "cost": .double(point.cost),
                        "quantity": .double(point.quantity), "average_latency_ms": .double((point.averageLatencyMilliseconds * 10).rounded() / 10),
                    ]
                }),
            "totals": [
                "requests": .int(Int64(requests)), "ok": .int(Int64(ok)), "failures": .int(Int64(requests - ok - cancelled)),
                "cancelled": .int(Int64(cancelled)),
                "tokens": .int(Int64(points.reduce(0) { $0 + $1.promptTokens + $1.completionTokens })),
                "cost": .double(points.reduce(0) { $0 + $1.cost }),
            ],
        ]
    }
}
