// SPDX-License-Identifier: Apache-2.0
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// Fetches a URL a user caused the hub to fetch (an image or voice link in a message), under a
/// ``FetchPolicy``: http and https only; the host name resolved here and every address checked
/// (so `localhost`, `2130706433`, `[::ffff:127.0.0.1]` or a name pointing at 169.254.169.254 are
/// refused); redirects followed one by one, each checked again; the body capped while it streams;
/// one deadline for all of it.
///
/// An `http` URL is fetched from the address that was checked (the `Host` header keeps the name), so
/// a name cannot resolve to a public address for the check and a private one for the connection.
/// For `https` the TLS handshake needs the name, and the connection resolves it again: a name whose
/// owner switches it between the check and the connection (DNS rebinding) could still reach a
/// private address there. Keep ``FetchPolicy/allowPrivateAddresses`` off where that matters.
///
/// Owns its `HTTPClient` (redirects off, so none is followed unchecked): call ``shutdown()``.
public final class GuardedFetcher: Sendable {
    /// A fetched body.
    public struct Fetched: Sendable, Hashable {
        public var url: String
        public var contentType: String?
        public var body: [UInt8]
    }

    public let policy: FetchPolicy
    private let client: HTTPClient

    public init(policy: FetchPolicy) {
        self.policy = policy
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow)
        configuration.timeout = .init(connect: .seconds(5))
        configuration.tracing.tracer = nil
        configuration.decompression = .disabled
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    public func shutdown() async throws {
        try await client.shutdown()
    }

    /// Fetches `url` under the policy. Throws ``FetchError``.
    public func fetch(_ url: String) async throws -> Fetched {
        let deadline = NIODeadline.now() + TimeAmount(policy.timeout)
        var current = url
        for _ in 0...policy.maxRedirects {
            let target = try await check(current)
            var request = HTTPClientRequest(url: target.connectURL)
            request.headers.replaceOrAdd(name: "Host", value: target.hostHeader)
            request.headers.add(name: "User-Agent", value: "hub")
            let response: HTTPClientResponse
            do {
                response = try await client.execute(request, deadline: deadline)
            } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout {
                throw FetchError(.timeout, "\(current): no answer within \(policy.timeout)")
            } catch {
                throw FetchError(.transport, "\(current): \(error)")
            }
            if (300..<400).contains(response.status.code), response.status != .notModified {
                guard let location = response.headers.first(name: "Location"), let next = URL(string: location, relativeTo: target.original)
                else { throw FetchError(.invalidURL, "\(current): redirect without a usable Location") }
                current = next.absoluteString
                continue
            }
            guard response.status.code < 300 else { throw FetchError(.httpStatus, "\(current): HTTP \(response.status.code)") }
            if let length = response.headers.first(name: "Content-Length").flatMap(Int.init), length > policy.maxBytes {
                throw FetchError(.tooLarge, "\(current): \(length) bytes, at most \(policy.maxBytes)")
            }
            var body = [UInt8]()
            do {
                for try await chunk in response.body {
                    guard body.count + chunk.readableBytes <= policy.maxBytes else {
                        throw FetchError(.tooLarge, "\(current): more than \(policy.maxBytes) bytes")
                    }
                    body += chunk.readableBytesView
                }
            } catch let error as FetchError {
                throw error
            } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout {
                throw FetchError(.timeout, "\(current): the body did not arrive within \(policy.timeout)")
            } catch {
                throw FetchError(.transport, "\(current): \(error)")
            }
            return Fetched(url: current, contentType: response.headers.first(name: "Content-Type"), body: body)
        }
        throw FetchError(.tooManyRedirects, "\(url): more than \(policy.maxRedirects) redirects")
    }

    /// Where a checked URL is fetched from.
    struct Target {
        var original: URL
        var connectURL: String
        var hostHeader: String
    }

    /// Parses `text` and resolves its host; throws unless every address is permitted.
    func check(_ text: String) async throws -> Target {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
            let rawHost = url.host, !rawHost.isEmpty, url.user == nil, url.password == nil
        else { throw FetchError(.invalidURL, "\(text.prefix(200)): only http and https URLs with a host, without credentials") }
        let host = rawHost.hasPrefix("[") && rawHost.hasSuffix("]") ? String(rawHost.dropFirst().dropLast()) : rawHost
        let addresses = try await Self.resolve(host, port: url.port ?? (scheme == "https" ? 443 : 80))
        guard !addresses.isEmpty else { throw FetchError(.unresolvable, "\(host) has no address") }
        for address in addresses {
            let kind = IPAddressKind(bytes: address.bytes)
            guard policy.permits(kind, host: host) else {
                throw FetchError(.forbiddenAddress, "\(host) resolves to \(address.text) (\(kind.rawValue))")
            }
        }
        let hostHeader = url.port.map { "\(rawHost):\($0)" } ?? rawHost
        guard scheme == "http", var components = URLComponents(url: url, resolvingAgainstBaseURL: false) else {
            return Target(original: url, connectURL: url.absoluteString, hostHeader: hostHeader)
        }
        // Plain http: connect to the address that was checked.
        components.host = addresses[0].bytes.count == 16 ? "[\(addresses[0].text)]" : addresses[0].text
        return Target(original: url, connectURL: components.string ?? url.absoluteString, hostHeader: hostHeader)
    }

    /// A resolved address.
    struct Address: Hashable {
        var bytes: [UInt8]
        var text: String
    }

    private static func text<T>(of address: inout T, family: Int32) -> String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        guard inet_ntop(family, &address, &buffer, socklen_t(buffer.count)) != nil else { return "?" }
        return String(cString: buffer)
    }

    /// Every address `host` resolves to (an IP literal resolves to itself), off the caller's thread.
    static func resolve(_ host: String, port: Int) async throws -> [Address] {
        try await NIOThreadPool.singleton.runIfActive {
            var hints = addrinfo()
            hints.ai_family = AF_UNSPEC
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
            var list: UnsafeMutablePointer<addrinfo>?
            let status = getaddrinfo(host, String(port), &hints, &list)
            guard status == 0, let first = list else { throw FetchError(.unresolvable, "\(host): \(String(cString: gai_strerror(status)))") }
            defer { freeaddrinfo(first) }
            var addresses = [Address]()
            var cursor: UnsafeMutablePointer<addrinfo>? = first
            while let entry = cursor {
                if let socketAddress = entry.pointee.ai_addr {
                    switch Int32(socketAddress.pointee.sa_family) {
                    case AF_INET:
                        var v4 = socketAddress.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr }
                        addresses.append(Address(bytes: withUnsafeBytes(of: &v4) { Array($0) }, text: Self.text(of: &v4, family: AF_INET)))
                    case AF_INET6:
                        var v6 = socketAddress.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee.sin6_addr }
                        addresses.append(Address(bytes: withUnsafeBytes(of: &v6) { Array($0) }, text: Self.text(of: &v6, family: AF_INET6)))
                    default:
                        break
                    }
                }
                cursor = entry.pointee.ai_next
            }
            return Array(Set(addresses)).sorted { $0.text < $1.text }
        }
    }
}
