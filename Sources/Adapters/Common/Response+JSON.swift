// SPDX-License-Identifier: Apache-2.0
import Engine
import HTTPTypes
import Hummingbird
import NIOCore

extension Response {
    /// `value` as a JSON body (`application/json; charset=utf-8`) with `status`.
    public static func json(_ status: HTTPResponse.Status, _ value: JSONValue) -> Response {
        var bytes = [UInt8]()
        value.write(into: &bytes)
        return Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// `{"error":{"message": message}}` with `status`: how the doors and the operations routes refuse.
    public static func jsonError(_ status: HTTPResponse.Status, _ message: String) -> Response {
        json(status, HubError.body(message))
    }
}
