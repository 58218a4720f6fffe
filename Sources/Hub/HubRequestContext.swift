// SPDX-License-Identifier: Apache-2.0
import Hummingbird
import HummingbirdWebSocket

/// The request context of every hub route: Hummingbird's core storage plus the WebSocket handler
/// slot that upgrade routes fill in.
struct HubRequestContext: RequestContext, WebSocketRequestContext {
    var coreContext: CoreRequestContextStorage
    let webSocket: WebSocketHandlerReference<HubRequestContext>

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        webSocket = .init()
    }
}
