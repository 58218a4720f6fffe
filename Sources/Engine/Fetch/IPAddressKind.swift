// SPDX-License-Identifier: Apache-2.0

/// What an IP address reaches, as far as a fetch on a user's behalf is concerned: the public
/// internet, or one of the ranges a request must not be steered into (the hub's own host, the
/// operator's network, cloud metadata services, multicast).
public enum IPAddressKind: String, Sendable, Hashable {
    case `public`
    /// 127.0.0.0/8, ::1.
    case loopback
    /// 10/8, 172.16/12, 192.168/16, 100.64/10 (carrier-grade NAT), fc00::/7 (unique local).
    case `private`
    /// 169.254/16 (where cloud metadata services live), fe80::/10.
    case linkLocal = "link-local"
    /// 0/8, ::, 192.0.0/24, 198.18/15 (benchmarking), 240/4, and the documentation ranges.
    case reserved
    /// 224/4, ff00::/8, 255.255.255.255.
    case multicast

    /// Classifies 4 (IPv4) or 16 (IPv6) bytes in network order; anything else is reserved.
    /// IPv6 forms that carry an IPv4 address (mapped, compatible, NAT64, 6to4) are judged by it.
    public init(bytes: [UInt8]) {
        switch bytes.count {
        case 4: self = Self.classify(v4: bytes)
        case 16: self = Self.classify(v6: bytes)
        default: self = .reserved
        }
    }

    private static func classify(v4 b: [UInt8]) -> IPAddressKind {
        switch (b[0], b[1], b[2]) {
        case (0, _, _): return .reserved
        case (10, _, _): return .private
        case (100, 64...127, _): return .private
        case (127, _, _): return .loopback
        case (169, 254, _): return .linkLocal
        case (172, 16...31, _): return .private
        case (192, 0, 0), (192, 0, 2): return .reserved
        case (192, 88, 99): return .reserved
        case (192, 168, _): return .private
        case (198, 18...19, _): return .reserved
        case (198, 51, 100), (203, 0, 113): return .reserved
        case (224...239, _, _): return .multicast
        case (240...255, _, _): return b == [255, 255, 255, 255] ? .multicast : .reserved
        default: return .public
        }
    }

    private static func classify(v6 b: [UInt8]) -> IPAddressKind {
        let head = b[0..<10]
        if b.allSatisfy({ $0 == 0 }) { return .reserved }
        if b[0..<15].allSatisfy({ $0 == 0 }), b[15] == 1 { return .loopback }
        // ::ffff:a.b.c.d (mapped) and ::a.b.c.d (compatible, deprecated).
        if head.allSatisfy({ $0 == 0 }), (b[10] == 0xFF && b[11] == 0xFF) || (b[10] == 0 && b[11] == 0) {
            return classify(v4: Array(b[12..<16]))
        }
        // 64:ff9b::/96, NAT64 to a.b.c.d.
        if b[0..<12] == [0x00, 0x64, 0xFF, 0x9B, 0, 0, 0, 0, 0, 0, 0, 0] { return classify(v4: Array(b[12..<16])) }
        // 2002:a.b.c.d::/48, 6to4.
        if b[0] == 0x20, b[1] == 0x02 { return classify(v4: Array(b[2..<6])) }
        if b[0] & 0xFE == 0xFC { return .private }
        if b[0] == 0xFE, b[1] & 0xC0 == 0x80 { return .linkLocal }
        if b[0] == 0xFF { return .multicast }
        // 2001:db8::/32, documentation.
        if b[0] == 0x20, b[1] == 0x01, b[2] == 0x0D, b[3] == 0xB8 { return .reserved }
        return .public
    }
}
