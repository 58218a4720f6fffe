// SPDX-License-Identifier: Apache-2.0

/// What a ``ProviderRouter`` does after an attempt failed, as the router's owner classifies the error.
public enum FailureVerdict: Sendable, Hashable {
    /// The route is unwell (timeout, broken connection, 429, 5xx): counted against its breaker and
    /// statistics, retried on it with backoff, then the next route.
    case unhealthy
    /// The request itself is wrong (400): no route would do better; thrown at once, counted nowhere.
    case callersFault
    /// The provider refused our credentials (401/403): the route leaves the rotation until restart.
    case credentials
    /// Not this route's fault and not worth retrying here, but another route may do it (a context
    /// too long for this model, a voice or language it lacks): the next route, counted nowhere.
    case elsewhere
}
