// SPDX-License-Identifier: Apache-2.0
import Hummingbird

/// The request context of every hub HTTP route. WebSocket upgrades are decided before routing,
/// by ``HubHTTPChannel``.
struct HubRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
    }
}
