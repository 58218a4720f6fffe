// SPDX-License-Identifier: Apache-2.0
import Engine

extension FuzzTarget {
    /// `hub.yaml` as `hub serve` and `hub check-config` read it: YAML through Yams, `${VAR}`
    /// substitution, `HUB_*` overrides, strict decoding and validation; then what start-up makes of
    /// an accepted configuration (see ``ConfigurationInput/startUp(_:)``).
    ///
    /// Leading `#env NAME=VALUE` lines (YAML comments) add to the environment, so that inputs can
    /// exercise references and overrides.
    static let configuration = FuzzTarget(name: "config", summary: "hub.yaml: Yams, ${VAR}, HUB_* overrides, validation") { bytes in
        let input = ConfigurationInput(String(decoding: bytes, as: UTF8.self))
        guard let configuration = try? ConfigurationLoader(environment: input.environment).parse(yaml: input.yaml) else { return }
        _ = configuration.renderMasked()
        _ = configuration.exposureWarnings
        ConfigurationInput.startUp(configuration)
    }
}
