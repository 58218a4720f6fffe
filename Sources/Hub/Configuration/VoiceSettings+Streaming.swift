// SPDX-License-Identifier: Apache-2.0
import Adapters
import Engine

extension VoiceSettings {
    /// The streaming recognition door's settings (`/api/v1/stream`) from the `voice:` section:
    /// the same token, endpointing and limits as the live voice door (its own count of sessions).
    var streamingSettings: StreamingASRDoorSettings {
        StreamingASRDoorSettings(
            accessToken: accessToken?.value, maxSessions: maxSessions,
            endpointer: UtteranceEndpointer.Settings(
                silence: .milliseconds(endpointSilenceMs), maximumLength: .milliseconds(Int64(maxUtteranceSeconds * 1000))),
            idleTimeout: .milliseconds(Int64(idleTimeout * 1000)))
    }
}
