// SPDX-License-Identifier: Apache-2.0
import Foundation

/// Language names as Whisper servers report them (`english`, `chinese`) turned into ISO 639 codes,
/// which is what ``Transcript/language`` holds.
enum LanguageNames {
    /// The ISO 639-1 code (or 639-3 where there is no two-letter one, as `yue`) for `name`; a value
    /// that is already a code comes back lower-cased; an unknown name comes back as it is.
    static func code(for name: String) -> String {
        let key = name.trimmingCharacters(in: .whitespaces).lowercased()
        // Names first: Whisper's `lao` is a name (ISO 639-1 `lo`), not a code.
        if let code = aliases[key] ?? englishNames[key] { return code }
        if key.count <= 3, key.allSatisfy({ $0.isASCII && $0.isLetter }) { return key }
        return name
    }

    /// Whisper's names that differ from the English names Foundation knows.
    private static let aliases: [String: String] = [
        "myanmar": "my", "nynorsk": "nn", "norwegian": "no", "cantonese": "yue", "mandarin": "zh", "castilian": "es",
        "valencian": "ca", "flemish": "nl", "moldavian": "ro", "moldovan": "ro", "haitian": "ht", "letzeburgesch": "lb",
        "pushto": "ps", "panjabi": "pa", "sinhalese": "si",
    ]

    /// Every two-letter ISO 639 code, by its English name.
    private static let englishNames: [String: String] = {
        let english = Locale(identifier: "en_US")
        var names: [String: String] = [:]
        for code in Locale.LanguageCode.isoLanguageCodes where code.identifier.count == 2 {
            if let name = english.localizedString(forLanguageCode: code.identifier) { names[name.lowercased()] = code.identifier }
        }
        return names
    }()
}
