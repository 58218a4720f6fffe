// SPDX-License-Identifier: Apache-2.0
import Crypto
import Foundation

/// The `/docs` page: the OpenAPI document rendered as one HTML page on the hub, with no script at
/// all. Operations are grouped by tag, each with its method, path, summary, description, security,
/// parameters, request body and responses; schemas are listed at the end and referenced by link.
///
/// Every text that comes from the document is HTML-escaped; descriptions get only `code` spans,
/// `**bold**` and paragraphs, made after escaping. The page's one style sheet is inline and allowed
/// by its hash in ``contentSecurityPolicy``, so the policy allows nothing else.
struct OpenAPIPage: Sendable {
    /// The whole page.
    let html: String
    /// `default-src 'none'`, with the inline style sheet allowed by its SHA-256.
    let contentSecurityPolicy: String

    init(_ document: OpenAPIDocument) {
        html = Renderer(document: document).page()
        let digest = Data(SHA256.hash(data: Data(Self.style.utf8))).base64EncodedString()
        contentSecurityPolicy =
            "default-src 'none'; style-src 'sha256-\(digest)'; img-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    }

    static let style = """
        body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1d2330;background:#fbfbfd;margin:0}
        main,header,nav{max-width:72rem;margin:0 auto;padding:0 1.25rem}
        header{padding-top:1.5rem}
        h1{margin:.2rem 0}h2{margin-top:2.5rem;border-bottom:2px solid #dde1ea;padding-bottom:.3rem}
        h3{font-size:1.05rem;margin:0 0 .3rem;display:flex;gap:.6rem;align-items:center;flex-wrap:wrap}
        h4{font-size:.8rem;text-transform:uppercase;letter-spacing:.05em;color:#5b6478;margin:1rem 0 .3rem}
        a{color:#2157c6}
        code{font:13px/1.4 ui-monospace,SFMono-Regular,Menlo,monospace;background:#eef0f5;padding:0 .25rem;border-radius:3px}
        nav ul{columns:2 26rem;padding-left:1.1rem}nav li{break-inside:avoid}
        article{background:#fff;border:1px solid #dde1ea;border-radius:8px;padding:1rem 1.2rem;margin:1rem 0}
        .method{font:bold 12px/1 ui-monospace,monospace;text-transform:uppercase;color:#fff;padding:.3rem .5rem;border-radius:4px;background:#5b6478}
        .get{background:#1f7a4d}.post{background:#2157c6}.delete{background:#b3261e}.put,.patch{background:#a15c00}.head{background:#6b4fa0}
        .badge{font-size:12px;border:1px solid #6b4fa0;color:#6b4fa0;border-radius:4px;padding:0 .4rem}
        .summary{margin:.2rem 0 .5rem;font-weight:600}
        table{border-collapse:collapse;width:100%;margin:.3rem 0}
        td,th{border-top:1px solid #e6e9f0;padding:.35rem .5rem;text-align:left;vertical-align:top}
        th{font-size:.8rem;color:#5b6478}
        ul.schema{margin:.2rem 0;padding-left:1.2rem}ul.schema li{margin:.15rem 0}
        .type{color:#6b4fa0}.req{color:#b3261e;font-size:.8rem}.facet{color:#5b6478;font-size:.85rem}
        .status{font-weight:bold}.s2{color:#1f7a4d}.s1,.s3{color:#2157c6}.s4{color:#a15c00}.s5{color:#b3261e}
        .note{color:#5b6478}
        """

    /// Builds the page.
    private struct Renderer {
        let document: OpenAPIDocument

        func page() -> String {
            let info = document.root["info"]
            let title = info?["title"]?.string ?? "API"
            var html = """
                <!doctype html>
                <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
                <title>\(escape(title)) — API</title><style>\(OpenAPIPage.style)</style></head><body>
                <header><h1>\(escape(title)) API</h1>
                """
            if let summary = info?["summary"]?.string { html += "<p class=\"summary\">\(escape(summary))</p>" }
            let openAPI = document.root["openapi"]?.scalarText ?? ""
            html += "<p class=\"note\">OpenAPI \(escape(openAPI)), version \(escape(info?["version"]?.scalarText ?? ""))"
            html += " · <a href=\"/openapi.yaml\">openapi.yaml</a> · <a href=\"/openapi.json\">openapi.json</a></p></header>"

            let groups = grouped()
            html += "<nav><h2>Contents</h2><ul>"
            for group in groups {
                html += "<li><a href=\"#\(tagAnchor(group.tag))\">\(escape(group.tag))</a><ul>"
                for operation in group.operations {
                    html += "<li>\(operationLink(operation))"
                    if let summary = operation.value["summary"]?.string { html += " — \(escape(summary))" }
                    html += "</li>"
                }
                html += "</ul></li>"
            }
            html += "<li><a href=\"#security\">Security schemes</a></li><li><a href=\"#schemas\">Schemas</a></li></ul></nav><main>"
            if let description = info?["description"]?.string { html += "<section>\(prose(description))</section>" }

            let tagDescriptions = Dictionary(
                (document.root["tags"]?.array ?? []).compactMap { tag in tag["name"]?.string.map { ($0, tag["description"]?.string ?? "") } },
                uniquingKeysWith: { first, _ in first })
            for group in groups {
                html += "<section id=\"\(tagAnchor(group.tag))\"><h2>\(escape(group.tag))</h2>"
                if let description = tagDescriptions[group.tag], !description.isEmpty { html += prose(description) }
                for operation in group.operations { html += render(operation) }
                html += "</section>"
            }
            html += securitySchemes()
            html += schemas()
            html += "</main></body></html>\n"
            return html
        }

        // MARK: Operations

        /// Operations by their first tag, the tags in the document's order (then any others, then untagged).
        func grouped() -> [(tag: String, operations: [OpenAPIDocument.Operation])] {
            var order = (document.root["tags"]?.array ?? []).compactMap { $0["name"]?.string }
            var groups = [String: [OpenAPIDocument.Operation]]()
            for operation in document.operations {
                let tag = operation.value["tags"]?.array?.first?.string ?? "other"
                if !order.contains(tag) { order.append(tag) }
                groups[tag, default: []].append(operation)
            }
            return order.compactMap { tag in groups[tag].map { (tag, $0) } }
        }

        func tagAnchor(_ tag: String) -> String { "tag-" + slug(tag) }

        func operationAnchor(_ operation: OpenAPIDocument.Operation) -> String {
            "op-\(operation.method)-" + slug(operation.path)
        }

        func render(_ operation: OpenAPIDocument.Operation) -> String {
            let value = operation.value
            let method = escape(operation.method)
            var html = "<article id=\"\(operationAnchor(operation))\"><h3><span class=\"method \(method)\">\(method)</span>"
            html += "<code>\(escape(operation.path))</code>"
            if operation.isWebSocket { html += "<span class=\"badge\">WebSocket</span>" }
            if value["deprecated"]?.bool == true { html += "<span class=\"badge\">deprecated</span>" }
            html += "</h3>"
            if let summary = value["summary"]?.string { html += "<p class=\"summary\">\(escape(summary))</p>" }
            if let description = value["description"]?.string { html += prose(description) }

            if let security = (value["security"] ?? document.root["security"])?.array, !security.isEmpty {
                let alternatives = security.map { requirement -> String in
                    let names = (requirement.entries ?? []).map { "<a href=\"#security-\(slug($0.key))\">\(escape($0.key))</a>" }
                    return names.isEmpty ? "none" : names.joined(separator: " and ")
                }
                html += "<p><strong>Credentials:</strong> \(alternatives.joined(separator: " or "))</p>"
            }

            let pathItem = document.root["paths"]?[operation.path]
            let parameters = (pathItem?["parameters"]?.array ?? []) + (value["parameters"]?.array ?? [])
            if !parameters.isEmpty {
                html += "<h4>Parameters</h4><table><tr><th>name</th><th>in</th><th>schema</th><th>description</th></tr>"
                for reference in parameters {
                    let parameter = document.dereferenced(reference)
                    let required = parameter["required"]?.bool == true ? " <span class=\"req\">required</span>" : ""
                    html += "<tr><td><code>\(escape(parameter["name"]?.string ?? "?"))</code>\(required)</td>"
                    html += "<td>\(escape(parameter["in"]?.string ?? ""))</td><td>\(parameter["schema"].map { schema($0) } ?? "")</td>"
                    html += "<td>\(parameter["description"]?.string.map(inline) ?? "")</td></tr>"
                }
                html += "</table>"
            }

            if let reference = value["requestBody"] {
                let body = document.dereferenced(reference)
                html += "<h4>Request body\(body["required"]?.bool == true ? " <span class=\"req\">required</span>" : "")</h4>"
                if let description = body["description"]?.string { html += prose(description) }
                html += content(body["content"])
            }

            if let responses = value["responses"]?.entries {
                html += "<h4>Responses</h4><table><tr><th>status</th><th>what</th></tr>"
                for (status, reference) in responses {
                    let response = document.dereferenced(reference)
                    html += "<tr><td class=\"status s\(escape(String(status.prefix(1))))\">\(escape(status))</td><td>"
                    html += response["description"]?.string.map(inline) ?? ""
                    if let headers = response["headers"]?.entries, !headers.isEmpty {
                        html += "<div>Headers:<ul class=\"schema\">"
                        for (name, headerReference) in headers {
                            let header = document.dereferenced(headerReference)
                            let required = header["required"]?.bool == true ? " <span class=\"req\">required</span>" : ""
                            html += "<li><code>\(escape(name))</code>\(required) \(header["schema"].map { schema($0) } ?? "")"
                            if let description = header["description"]?.string { html += " — \(inline(description))" }
                            html += "</li>"
                        }
                        html += "</ul></div>"
                    }
                    html += content(response["content"])
                    if let links = response["links"]?.entries, !links.isEmpty {
                        html += "<div>Links:<ul class=\"schema\">"
                        for (name, link) in links {
                            html += "<li><code>\(escape(name))</code> → \(operationLink(link["operationId"]?.string))"
                            if let description = link["description"]?.string { html += " — \(inline(description))" }
                            html += "</li>"
                        }
                        html += "</ul></div>"
                    }
                    html += "</td></tr>"
                }
                html += "</table>"
            }
            html += "</article>"
            return html
        }

        /// A link to the operation with `operationId`, shown as its method and path.
        func operationLink(_ operationID: String?) -> String {
            guard let operationID, let operation = document.operations.first(where: { $0.value["operationId"]?.string == operationID }) else {
                return escape(operationID ?? "?")
            }
            return operationLink(operation)
        }

        /// A link to `operation`, shown as its method and path.
        func operationLink(_ operation: OpenAPIDocument.Operation) -> String {
            "<a href=\"#\(operationAnchor(operation))\"><code>\(escape(operation.method.uppercased())) \(escape(operation.path))</code></a>"
        }

        /// A `content` map: each media type with its schema.
        func content(_ value: OpenAPIValue?) -> String {
            guard let entries = value?.entries, !entries.isEmpty else { return "" }
            var html = ""
            for (mediaType, media) in entries {
                html += "<div><code>\(escape(mediaType))</code>"
                if let schemaValue = media["schema"] { html += " " + schema(schemaValue) }
                html += "</div>"
            }
            return html
        }

        // MARK: Schemas

        /// A schema: a link for a reference, else its type and facets, its properties and items.
        func schema(_ value: OpenAPIValue, depth: Int = 0) -> String {
            if let reference = value["$ref"]?.string {
                let name = reference.split(separator: "/").last.map(String.init) ?? reference
                return "<a href=\"#schema-\(slug(name))\">\(escape(name))</a>"
            }
            guard depth < 12 else { return "…" }
            var parts = [String]()
            if let type = typeText(value) { parts.append("<span class=\"type\">\(escape(type))</span>") }
            var facets = [String]()
            if let constant = value["const"] { facets.append("always \(literal(constant))") }
            if let values = value["enum"]?.array { facets.append("one of " + values.map(literal).joined(separator: ", ")) }
            for (key, label) in [
                ("format", "format"), ("pattern", "pattern"), ("contentMediaType", "media type"), ("minimum", "≥"), ("maximum", "≤"),
                ("exclusiveMinimum", ">"), ("exclusiveMaximum", "<"), ("multipleOf", "multiple of"), ("minLength", "min length"),
                ("maxLength", "max length"), ("minItems", "min items"), ("maxItems", "max items"), ("default", "default"),
            ] {
                if let facet = value[key] { facets.append("\(label) \(literal(facet))") }
            }
            if let examples = value["examples"]?.array, !examples.isEmpty {
                facets.append("e.g. " + examples.prefix(2).map(literal).joined(separator: ", "))
            }
            if !facets.isEmpty { parts.append("<span class=\"facet\">(\(facets.joined(separator: "; ")))</span>") }
            var html = parts.joined(separator: " ")
            if let description = value["description"]?.string {
                html += depth == 0 && html.isEmpty ? inline(description) : " — " + inline(description)
            }

            if let properties = value["properties"]?.entries, !properties.isEmpty {
                let required = Set((value["required"]?.array ?? []).compactMap(\.string))
                html += "<ul class=\"schema\">"
                for (name, property) in properties {
                    html += "<li><code>\(escape(name))</code>\(required.contains(name) ? " <span class=\"req\">required</span>" : "") "
                    html += schema(property, depth: depth + 1) + "</li>"
                }
                html += "</ul>"
            }
            if let extra = value["additionalProperties"], extra.bool == nil {
                html += "<ul class=\"schema\"><li>other keys: \(schema(extra, depth: depth + 1))</li></ul>"
            }
            if let contentSchema = value["contentSchema"] {
                let mediaType = value["contentMediaType"]?.string ?? "content"
                html += "<ul class=\"schema\"><li>\(escape(mediaType)): \(schema(contentSchema, depth: depth + 1))</li></ul>"
            }
            if let condition = value["if"], let otherwise = value["else"] {
                let unless = condition["const"].map { "unless it is \(literal($0))" } ?? "unless \(schema(condition, depth: depth + 1))"
                html += "<ul class=\"schema\"><li>\(unless): \(schema(otherwise, depth: depth + 1))</li></ul>"
            }
            if let items = value["items"] {
                html += "<ul class=\"schema\"><li>items: \(schema(items, depth: depth + 1))</li></ul>"
            }
            for (key, label) in [("oneOf", "one of"), ("anyOf", "any of"), ("allOf", "all of")] {
                guard let choices = value[key]?.array else { continue }
                html += "<ul class=\"schema\"><li>\(label):<ul class=\"schema\">"
                for choice in choices { html += "<li>\(schema(choice, depth: depth + 1))</li>" }
                html += "</ul></li></ul>"
            }
            return html.isEmpty ? "<span class=\"type\">any</span>" : html
        }

        func typeText(_ value: OpenAPIValue) -> String? {
            switch value["type"] {
            case .string(let type)?: type
            case .array(let types)?: types.compactMap(\.string).joined(separator: " or ")
            default: nil
            }
        }

        func literal(_ value: OpenAPIValue) -> String {
            switch value {
            case .string(let text): "<code>\(escape(text.isEmpty ? "\"\"" : text))</code>"
            case .array, .object:
                "<code>\(escape(value.json))</code>"
            default: "<code>\(escape(value.scalarText ?? ""))</code>"
            }
        }

        func securitySchemes() -> String {
            var html = "<section id=\"security\"><h2>Security schemes</h2><table><tr><th>name</th><th>kind</th><th>description</th></tr>"
            for (name, scheme) in document.root["components"]?["securitySchemes"]?.entries ?? [] {
                var kind = scheme["type"]?.string ?? ""
                if let httpScheme = scheme["scheme"]?.string { kind += " (\(httpScheme))" }
                if let place = scheme["in"]?.string, let field = scheme["name"]?.string { kind += ": \(field) in \(place)" }
                html += "<tr id=\"security-\(slug(name))\"><td><code>\(escape(name))</code></td><td>\(escape(kind))</td>"
                html += "<td>\(scheme["description"]?.string.map(inline) ?? "")</td></tr>"
            }
            return html + "</table></section>"
        }

        func schemas() -> String {
            var html = "<section id=\"schemas\"><h2>Schemas</h2>"
            for (name, value) in document.root["components"]?["schemas"]?.entries ?? [] {
                html += "<article id=\"schema-\(slug(name))\"><h3><code>\(escape(name))</code></h3>\(schema(value))</article>"
            }
            return html + "</section>"
        }

        // MARK: Text

        /// Paragraphs (split at blank lines) of ``inline(_:)`` text.
        func prose(_ text: String) -> String {
            text.components(separatedBy: "\n\n")
                .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
                .filter { !$0.isEmpty }
                .map { "<p>\(inline($0))</p>" }
                .joined()
        }

        /// Escaped text with `code` spans and `**bold**`.
        func inline(_ text: String) -> String {
            var html = ""
            var inCode = false
            var inBold = false
            var rest = Substring(text)
            while let character = rest.first {
                if character == "`" {
                    html += inCode ? "</code>" : "<code>"
                    inCode.toggle()
                    rest = rest.dropFirst()
                } else if !inCode, rest.hasPrefix("**") {
                    html += inBold ? "</strong>" : "<strong>"
                    inBold.toggle()
                    rest = rest.dropFirst(2)
                } else {
                    html += escape(String(character))
                    rest = rest.dropFirst()
                }
            }
            if inCode { html += "</code>" }
            if inBold { html += "</strong>" }
            return html
        }

        /// Letters and digits kept, everything else `-`: an anchor name.
        func slug(_ text: String) -> String {
            var slug = ""
            for scalar in text.unicodeScalars {
                if scalar.isASCII, CharacterSet.alphanumerics.contains(scalar) {
                    slug.unicodeScalars.append(scalar)
                } else if !slug.hasSuffix("-") {
                    slug += "-"
                }
            }
            return slug.isEmpty ? "root" : slug
        }
    }

    /// `text` with `&`, `<`, `>`, `"` and `'` escaped: safe in element content and quoted attributes.
    static func escape(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.append(character)
            }
        }
        return escaped
    }
}
