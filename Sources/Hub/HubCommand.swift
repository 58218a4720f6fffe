// SPDX-License-Identifier: Apache-2.0
import ArgumentParser
import Engine
import Foundation
import Logging
import Hummingbird

/// `hub`: the chatbot integration hub.
@main
struct HubCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hub",
        abstract: "A chatbot integration hub: QQ (OneBot 11), web chat and voice, answered by one engine.",
        subcommands: [Serve.self, CheckConfig.self, Migrate.self, ConfigReference.self],
        defaultSubcommand: Serve.self
    )
}

/// Options every subcommand shares.
struct ConfigOptions: ParsableArguments {
    @Option(name: .long, help: "Path of hub.yaml (default: $HUB_CONFIG, else ./hub.yaml when it exists).")
    var config: String?

    /// The configuration file to read, if any.
    func path(environment: [String: String]) -> String? {
        if let config { return config }
        if let path = environment["HUB_CONFIG"], !path.isEmpty { return path }
        return FileManager.default.fileExists(atPath: "hub.yaml") ? "hub.yaml" : nil
    }

    func load() throws -> HubConfiguration {
        let environment = ProcessInfo.processInfo.environment
        return try HubConfiguration.load(path: path(environment: environment), environment: environment)
    }
}

extension HubCommand {
    /// `hub serve`: run the hub.
    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Serve every door on one port (default 8080).")

        @OptionGroup var options: ConfigOptions

        func run() async throws {
            let logger = makeLogger()
            let configuration: HubConfiguration
            do {
                configuration = try options.load()
            } catch {
                logger.critical("configuration error", metadata: ["error": "\(error)"])
                throw ExitCode(78)
            }
            for warning in configuration.exposureWarnings { logger.warning("\(warning)") }
            let app = try await buildApplication(configuration, logger: logger)
            try await app.runService()
        }
    }

    /// `hub check-config`: validate and print the effective configuration, secrets masked.
    struct CheckConfig: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check-config", abstract: "Validate the configuration and print it with secrets masked.")

        @OptionGroup var options: ConfigOptions

        func run() async throws {
            do {
                let configuration = try options.load()
                for warning in configuration.exposureWarnings {
                    FileHandle.standardError.write(Data("hub: warning: \(warning)\n".utf8))
                }
                print(configuration.renderMasked())
            } catch {
                FileHandle.standardError.write(Data("hub: configuration error: \(error)\n".utf8))
                throw ExitCode(78)
            }
        }
    }

    /// `hub migrate`: bring the SQLite schema up to date and exit.
    struct Migrate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create or upgrade the SQLite database, then exit.")

        @OptionGroup var options: ConfigOptions

        func run() async throws {
            let configuration = try options.load()
            let database = try HubDatabase(path: configuration.storage.sqlitePath)
            try database.migrate()
            print("database \(configuration.storage.sqlitePath) is at \(try database.appliedMigrations().last ?? "none")")
        }
    }
}

/// A logger writing to standard error at `LOG_LEVEL` (default `info`).
func makeLogger() -> Logger {
    var logger = Logger(label: "hub")
    let level = ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap { Logger.Level(rawValue: $0.lowercased()) }
    logger.logLevel = level ?? .info
    return logger
}

extension HubCommand {
    /// `hub config-reference`: every configuration key, its default, its environment variable and
    /// what it does, as the Markdown table the README carries.
    struct ConfigReference: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "config-reference", abstract: "Print every configuration key with its default and environment variable (Markdown).")

        func run() async throws {
            print(try ConfigurationReference.markdown(), terminator: "")
        }
    }
}
