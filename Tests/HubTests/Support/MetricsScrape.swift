// SPDX-License-Identifier: Apache-2.0

/// One scrape of `/metrics`, read as Prometheus' text format: every sample line
/// `name{label="value",…} number` as a name, its labels and its value (comments skipped).
/// ``families`` are the names of its `# TYPE` lines.
///
/// ```swift
/// let scrape = MetricsScrape(text)
/// #expect(scrape.value("hub_jobs_total", ["kind": "image", "outcome": "failed"]) == 1)
/// ```
struct MetricsScrape: Sendable, CustomStringConvertible {
    /// One sample line.
    struct Sample: Sendable, Hashable {
        var name: String
        var labels: [String: String]
        var value: Double
    }

    let text: String
    let samples: [Sample]
    /// The metric families the scrape declares (`# TYPE name kind`), samples or not.
    let families: [String]

    init(_ text: String) {
        self.text = text
        let lines = text.split(separator: "\n")
        samples = lines.compactMap(Self.sample)
        families = lines.compactMap { line in
            let fields = line.split(separator: " ")
            return line.hasPrefix("# TYPE ") && fields.count >= 3 ? String(fields[2]) : nil
        }
    }

    /// The value of the sample named `name` whose labels are exactly `labels`; nil when there is none.
    func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        samples.first { $0.name == name && $0.labels == labels }?.value
    }

    /// The samples named `name` that carry every label of `labels` (and maybe others).
    func samples(_ name: String, matching labels: [String: String]) -> [Sample] {
        samples.filter { sample in sample.name == name && labels.allSatisfy { sample.labels[$0.key] == $0.value } }
    }

    /// A histogram's `_bucket` samples for `labels`, by their upper bound (`+Inf` last).
    func buckets(_ histogram: String, _ labels: [String: String]) -> [(upperBound: Double, count: Double)] {
        samples("\(histogram)_bucket", matching: labels).compactMap { sample in
            guard let bound = sample.labels["le"] else { return nil }
            return (bound == "+Inf" ? .infinity : Double(bound) ?? .nan, sample.value)
        }.sorted { $0.upperBound < $1.upperBound }
    }

    var description: String { text }

    private static func sample(_ line: Substring) -> Sample? {
        guard !line.hasPrefix("#"), let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { return nil }
        let series = line[..<space]
        guard let brace = series.firstIndex(of: "{") else { return Sample(name: String(series), labels: [:], value: value) }
        var labels = [String: String]()
        // A value may hold `\"`, `\\` and `\n` (the format's escapes).
        for match in series[brace...].matches(of: #/([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"/#) {
            labels[String(match.output.1)] = Self.unescaped(match.output.2)
        }
        return Sample(name: String(series[..<brace]), labels: labels, value: value)
    }

    private static func unescaped(_ value: Substring) -> String {
        var text = ""
        var escaping = false
        for character in value {
            if escaping {
                text.append(character == "n" ? "\n" : character)
                escaping = false
            } else if character == "\\" {
                escaping = true
            } else {
                text.append(character)
            }
        }
        return text
    }
}
