// SPDX-License-Identifier: Apache-2.0
import Testing

@testable import Hub

/// YAML aliases in `hub.yaml`. The alias bomb was found while writing the `config` fuzz target
/// (Fuzz/README.md); libFuzzer reports it as a timeout.
@Suite struct ConfigurationAliasTests {
    /// `levels` lines of nested aliases, ten references each: 10^(levels + 1) values once expanded.
    private func aliasBomb(levels: Int) -> String {
        let names = (0...levels).map { "k\($0)" }
        var yaml = "\(names[0]): &\(names[0]) [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1...levels {
            let references = Array(repeating: "*\(names[level - 1])", count: 10).joined(separator: ", ")
            yaml += "\(names[level]): &\(names[level]) [\(references)]\n"
        }
        return yaml
    }

    /// 300 bytes that expand to 10^10 values: the loader built every one of them (at 10^7 values it
    /// already took minutes, then memory ran out). It now stops at `maxValues`.
    @Test func aliasBombIsRefusedQuickly() {
        let start = ContinuousClock.now
        do {
            _ = try HubConfiguration.parse(yaml: aliasBomb(levels: 9), environment: [:])
            Issue.record("an alias bomb was accepted")
        } catch let error as ConfigurationError {
            #expect(error.code == .syntax)
            #expect(error.message.hasSuffix("more than \(ConfigurationNode.maxValues) values once aliases are expanded"))
        } catch {
            Issue.record("unexpected error: \(error)")
        }
        #expect(ContinuousClock.now - start < .seconds(10))
    }

    /// Aliases within the bound still work, as they did.
    @Test func aliasesAreExpanded() throws {
        let configuration = try HubConfiguration.parse(yaml: "chat:\n  prefixes: &names [\"/\", hub]\n  nicknames: *names\n", environment: [:])
        #expect(configuration.chat.prefixes == ["/", "hub"])
        #expect(configuration.chat.nicknames == ["/", "hub"])
    }
}
