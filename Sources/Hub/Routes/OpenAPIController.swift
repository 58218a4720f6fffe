// SPDX-License-Identifier: Apache-2.0
import Adapters
import Hummingbird
import Logging

/// `GET /openapi.yaml` (the OpenAPI 3.1 document compiled into the binary), `GET /openapi.json`
/// (the same as JSON) and `GET /docs` (the page the hub renders from it, ``OpenAPIPage``).
///
/// All three are made once per process, carry an `ETag` and `Cache-Control: no-cache` like the
/// chat page's files, and a Content-Security-Policy; the page's allows its inline style sheet alone.
struct OpenAPIController: Sendable {
    /// The three files.
    struct Files: Sendable {
        let yaml: WebPageController.Asset
        let json: WebPageController.Asset
        let page: WebPageController.Asset
    }

    /// Read and rendered at the first use.
    static let files: Result<Files, OpenAPIDocument.Malformed> = {
        let document: OpenAPIDocument
        do {
            document = try OpenAPIDocument(yaml: OpenAPIDocument.embeddedYAML)
        } catch {
            return .failure(error as? OpenAPIDocument.Malformed ?? OpenAPIDocument.Malformed("openapi.yaml: \(error)"))
        }
        let page = OpenAPIPage(document)
        let policy = "default-src 'none'; base-uri 'none'; frame-ancestors 'none'"
        return .success(
            Files(
                yaml: .init(Array(OpenAPIDocument.embeddedYAML.utf8), contentType: "application/yaml; charset=utf-8", contentSecurityPolicy: policy),
                json: .init(Array(document.json.utf8), contentType: "application/json; charset=utf-8", contentSecurityPolicy: policy),
                page: .init(Array(page.html.utf8), contentType: "text/html; charset=utf-8", contentSecurityPolicy: page.contentSecurityPolicy)))
    }()

    /// Registers the three routes. Were the compiled-in document unreadable (`OpenAPICoverageTests`
    /// reads it, so no build that passed the tests ships one), they answer 500 saying why.
    func addRoutes(to router: Router<HubRequestContext>, logger: Logger) {
        let files: Files
        switch Self.files {
        case .success(let read):
            files = read
        case .failure(let failure):
            logger.error("the OpenAPI document cannot be read", metadata: ["error": "\(failure)"])
            for path in ["/openapi.yaml", "/openapi.json", "/docs"] {
                router.get(RouterPath(path)) { _, _ -> Response in
                    throw HubError(.internalServerError, "the OpenAPI document cannot be read: \(failure)")
                }
            }
            return
        }
        for (path, asset) in [("/openapi.yaml", files.yaml), ("/openapi.json", files.json), ("/docs", files.page)] {
            router.get(RouterPath(path)) { request, _ in WebPageController.serve(asset, request: request, body: true) }
        }
    }
}
