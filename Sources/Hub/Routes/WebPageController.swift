// SPDX-License-Identifier: Apache-2.0
import Crypto
import Engine
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// Serves the web chat page (`/`, `/app.css`, `/app.js`, and `/mic-worklet.js`, the microphone's
/// AudioWorklet) from the files compiled into the binary.
///
/// Each file carries a strong `ETag` (a hash of its bytes) and `Cache-Control: no-cache`, so a
/// browser revalidates and gets `304` until the hub is upgraded. A Content-Security-Policy allows
/// nothing but the hub's own scripts, styles and sockets: even a rendering bug cannot run a script
/// that came in a reply.
struct WebPageController: Sendable {
    struct Asset: Sendable {
        let bytes: ByteBuffer
        let contentType: String
        let etag: String
        let contentSecurityPolicy: String

        init(_ bytes: [UInt8], contentType: String, contentSecurityPolicy: String = WebPageController.contentSecurityPolicy) {
            self.bytes = ByteBuffer(bytes: bytes)
            self.contentType = contentType
            self.etag = "\"" + Hex.string(SHA256.hash(data: bytes).prefix(12)) + "\""
            self.contentSecurityPolicy = contentSecurityPolicy
        }
    }

    static let contentSecurityPolicy =
        "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        + "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"

    let assets: [String: Asset] = [
        "/": Asset(PackageResources.index_html, contentType: "text/html; charset=utf-8"),
        "/index.html": Asset(PackageResources.index_html, contentType: "text/html; charset=utf-8"),
        "/app.css": Asset(PackageResources.app_css, contentType: "text/css; charset=utf-8"),
        "/app.js": Asset(PackageResources.app_js, contentType: "text/javascript; charset=utf-8"),
        // The microphone's AudioWorklet module: `script-src 'self'` covers worklets, so no exception is needed.
        "/mic-worklet.js": Asset(PackageResources.mic_worklet_js, contentType: "text/javascript; charset=utf-8"),
    ]

    func addRoutes(to router: Router<HubRequestContext>) {
        for (path, asset) in assets {
            router.on(RouterPath(path), method: .get) { request, _ in Self.serve(asset, request: request, body: true) }
            router.on(RouterPath(path), method: .head) { request, _ in Self.serve(asset, request: request, body: false) }
        }
    }

    /// `asset` with its validators and the security headers; `304` when the browser has it already.
    static func serve(_ asset: Asset, request: Request, body: Bool, policy: String? = nil) -> Response {
        var headers: HTTPFields = [
            .contentType: asset.contentType, .eTag: asset.etag, .cacheControl: "no-cache",
            .contentSecurityPolicy: policy ?? asset.contentSecurityPolicy, .xContentTypeOptions: "nosniff", .referrerPolicy: "no-referrer",
        ]
        let matches = request.headers[.ifNoneMatch].map { header in
            header.split(separator: ",").contains { $0.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "W/", with: "") == asset.etag }
        }
        if matches == true {
            return Response(status: .notModified, headers: headers)
        }
        headers[.contentLength] = String(asset.bytes.readableBytes)
        return Response(status: .ok, headers: headers, body: body ? .init(byteBuffer: asset.bytes) : .init())
    }
}

extension HTTPField.Name {
    static let xContentTypeOptions = Self("X-Content-Type-Options")!
    static let referrerPolicy = Self("Referrer-Policy")!
}
