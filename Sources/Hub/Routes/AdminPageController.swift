// SPDX-License-Identifier: Apache-2.0
import Hummingbird

/// Serves the admin dashboard: `/admin` (the page; `/admin/` too) and its script and style at
/// `/admin/assets/…`, from the files compiled into the binary.
///
/// The page itself is public and holds no data: it asks for the admin key and reads everything
/// from the `/admin/*` JSON API with it (``AdminController``, ``StatsController``). These routes
/// sit on the router, not in the API's group, so the key middleware never sees them; the API's
/// paths (`/admin/bots`, `/admin/usage`, …) are distinct. The Content-Security-Policy allows only
/// the hub's own script and style and requests to the hub: a value that slipped through as markup
/// still could not run.
struct AdminPageController: Sendable {
    static let contentSecurityPolicy =
        "default-src 'none'; connect-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        + "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"

    let assets: [String: WebPageController.Asset] = [
        "/admin": .init(PackageResources.admin_html, contentType: "text/html; charset=utf-8"),
        "/admin/assets/admin.css": .init(PackageResources.admin_css, contentType: "text/css; charset=utf-8"),
        "/admin/assets/admin.js": .init(PackageResources.admin_js, contentType: "text/javascript; charset=utf-8"),
    ]

    func addRoutes(to router: Router<HubRequestContext>) {
        for (path, asset) in assets {
            router.on(RouterPath(path), method: .get) { request, _ in
                WebPageController.serve(asset, request: request, body: true, policy: Self.contentSecurityPolicy)
            }
            router.on(RouterPath(path), method: .head) { request, _ in
                WebPageController.serve(asset, request: request, body: false, policy: Self.contentSecurityPolicy)
            }
        }
    }
}
