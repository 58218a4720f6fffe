// SPDX-License-Identifier: Apache-2.0
import Synchronization

/// Every key the configuration types accept, learnt by decoding a document through
/// ``StrictTreeDecoder``: each mapping it decodes reports its place and its `CodingKeys`. Places
/// are written with `[]` for "any element of the list" (`llm.providers[].name`); a mapping whose
/// keys are free (`onebot.http_api`, self id → URL) is a map, and what is under it is not listed.
final class ConfigurationKeyCensus: Sendable {
    private struct State {
        /// Each mapping's place and its keys, in the order the types declare them.
        var sections: [String: [String]] = [:]
        var maps: Set<String> = []
    }

    private let state = Mutex(State())

    /// A mapping was decoded at `path`; `keys` nil: it takes any key (a map).
    func record(_ path: ConfigurationPath, keys: [String]?) {
        state.withLock { state in
            let place = Self.place(of: path, maps: state.maps)
            if let keys {
                state.sections[place] = keys
            } else {
                state.maps.insert(place)
            }
        }
    }

    /// Every key's place, mappings left out (their keys are listed instead), depth first in the
    /// order the types declare them: `server.host`, …, `llm.providers`, `llm.providers[].name`, ….
    var keyPaths: [String] {
        let sections = state.withLock { $0.sections }
        var paths = [String]()
        func visit(_ section: String) {
            for key in sections[section] ?? [] {
                let path = section.isEmpty ? key : "\(section).\(key)"
                if sections[path] != nil {
                    visit(path)
                    continue
                }
                paths.append(path)
                if sections[path + "[]"] != nil { visit(path + "[]") }
            }
        }
        visit("")
        return paths
    }

    /// Whether the value at a key's place is a map of free keys.
    func isMap(_ place: String) -> Bool {
        state.withLock { $0.maps.contains(place) }
    }

    /// `llm.providers[0].models[1]` as `llm.providers[].models[]`; a key under a map as `<key>`.
    static func place(of path: ConfigurationPath, maps: Set<String>) -> String {
        var place = ""
        for component in path.components {
            switch component {
            case .index:
                place += "[]"
            case .key(let key):
                let name = maps.contains(place) ? "<key>" : key
                place += place.isEmpty ? name : ".\(name)"
            }
        }
        return place
    }
}
