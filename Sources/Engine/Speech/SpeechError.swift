// SPDX-License-Identifier: Apache-2.0

/// Why speech could not be synthesized or recognized: a ``ServiceFailure``, whose kind decides
/// what the speech routers do next, as ``ChatProviderError``'s does for the LLM router.
public typealias SpeechError = ServiceFailure
