// SPDX-License-Identifier: Apache-2.0
import Testing

@testable import Engine

/// Every range a user's URL must not reach, in both address families and the IPv6 forms that
/// carry an IPv4 address.
struct IPAddressKindTests {
    static func v4(_ text: String) -> [UInt8] { text.split(separator: ".").map { UInt8($0)! } }

    static func v6(_ groups: [UInt16]) -> [UInt8] { groups.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] } }

    @Test(arguments: [
        ("8.8.8.8", IPAddressKind.public), ("1.1.1.1", .public), ("93.184.216.34", .public), ("100.63.255.255", .public),
        ("100.128.0.0", .public), ("172.15.255.255", .public), ("172.32.0.0", .public), ("192.169.0.1", .public),
        ("127.0.0.1", .loopback), ("127.255.255.254", .loopback),
        ("10.0.0.1", .private), ("172.16.0.1", .private), ("172.31.255.255", .private), ("192.168.1.1", .private),
        ("100.64.0.1", .private), ("100.127.255.255", .private),
        ("169.254.169.254", .linkLocal), ("169.254.0.1", .linkLocal),
        ("0.0.0.0", .reserved), ("0.1.2.3", .reserved), ("192.0.0.8", .reserved), ("192.0.2.1", .reserved), ("198.18.0.1", .reserved),
        ("198.51.100.7", .reserved), ("203.0.113.9", .reserved), ("240.0.0.1", .reserved),
        ("224.0.0.1", .multicast), ("239.255.255.250", .multicast), ("255.255.255.255", .multicast),
    ])
    func ipv4(address: String, kind: IPAddressKind) {
        #expect(IPAddressKind(bytes: Self.v4(address)) == kind, "\(address)")
    }

    @Test func ipv6() {
        #expect(IPAddressKind(bytes: Self.v6([0x2606, 0x4700, 0, 0, 0, 0, 0, 0x1111])) == .public)
        #expect(IPAddressKind(bytes: Self.v6([0, 0, 0, 0, 0, 0, 0, 1])) == .loopback)
        #expect(IPAddressKind(bytes: Self.v6([0, 0, 0, 0, 0, 0, 0, 0])) == .reserved)
        #expect(IPAddressKind(bytes: Self.v6([0xFD12, 0x3456, 0, 0, 0, 0, 0, 1])) == .private)
        #expect(IPAddressKind(bytes: Self.v6([0xFC00, 0, 0, 0, 0, 0, 0, 1])) == .private)
        #expect(IPAddressKind(bytes: Self.v6([0xFE80, 0, 0, 0, 0, 0, 0, 1])) == .linkLocal)
        #expect(IPAddressKind(bytes: Self.v6([0xFEBF, 0, 0, 0, 0, 0, 0, 1])) == .linkLocal)
        #expect(IPAddressKind(bytes: Self.v6([0xFF02, 0, 0, 0, 0, 0, 0, 1])) == .multicast)
        #expect(IPAddressKind(bytes: Self.v6([0x2001, 0x0DB8, 0, 0, 0, 0, 0, 1])) == .reserved)
        // IPv4 carried in IPv6: judged by the IPv4 address.
        #expect(IPAddressKind(bytes: Self.v6([0, 0, 0, 0, 0, 0xFFFF, 0x7F00, 0x0001])) == .loopback)  // ::ffff:127.0.0.1
        #expect(IPAddressKind(bytes: Self.v6([0, 0, 0, 0, 0, 0xFFFF, 0xA9FE, 0xA9FE])) == .linkLocal)  // ::ffff:169.254.169.254
        #expect(IPAddressKind(bytes: Self.v6([0, 0, 0, 0, 0, 0xFFFF, 0x0808, 0x0808])) == .public)  // ::ffff:8.8.8.8
        #expect(IPAddressKind(bytes: Self.v6([0, 0, 0, 0, 0, 0, 0x0A00, 0x0001])) == .private)  // ::10.0.0.1
        #expect(IPAddressKind(bytes: Self.v6([0x0064, 0xFF9B, 0, 0, 0, 0, 0xC0A8, 0x0001])) == .private)  // 64:ff9b::192.168.0.1
        #expect(IPAddressKind(bytes: Self.v6([0x2002, 0x7F00, 0x0001, 0, 0, 0, 0, 1])) == .loopback)  // 6to4 of 127.0.0.1
        #expect(IPAddressKind(bytes: Self.v6([0x2002, 0x0808, 0x0808, 0, 0, 0, 0, 1])) == .public)
    }

    @Test func malformedLengthsAreReserved() {
        #expect(IPAddressKind(bytes: []) == .reserved)
        #expect(IPAddressKind(bytes: [127, 0, 0]) == .reserved)
        #expect(IPAddressKind(bytes: Array(repeating: 1, count: 17)) == .reserved)
    }
}
