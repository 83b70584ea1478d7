import Foundation

/// `backup.decrypt`: where the key of an encrypted backup comes from. Only paths and variable names are configured:
/// the key material itself is read by `age` or `gpg` alone (a file they open, or a pipe drill fills from the variable),
/// never logged, never on a command line, never in a report.
public struct DecryptConfig: Sendable, Equatable {
    /// An age identity file (`age-keygen` output: `AGE-SECRET-KEY-1…` lines).
    public var ageIdentity: String?
    /// The name of an environment variable of drill holding an age identity.
    public var ageIdentityEnv: String?
    /// A GnuPG home folder holding the secret key. drill never writes into it: gpg runs on a private copy.
    public var gpgHomedir: String?
    /// The name of an environment variable of drill holding the passphrase of the secret key (or of a symmetric
    /// encryption), handed to gpg through a pipe.
    public var gpgPassphraseEnv: String?

    public init(ageIdentity: String? = nil, ageIdentityEnv: String? = nil, gpgHomedir: String? = nil,
                gpgPassphraseEnv: String? = nil) {
        self.ageIdentity = ageIdentity
        self.ageIdentityEnv = ageIdentityEnv
        self.gpgHomedir = gpgHomedir
        self.gpgPassphraseEnv = gpgPassphraseEnv
    }

    static let keys: Set<String> = ["age_identity", "age_identity_env", "gpg_homedir", "gpg_passphrase_env"]

    /// Parses `backup.decrypt`.
    static func parse(_ v: JSONValue?, reader r: ConfigReader) -> DecryptConfig? {
        guard let v else { return nil }
        guard let o = r.object(v, at: "backup.decrypt", allowed: keys) else { return nil }
        var c = DecryptConfig()
        c.ageIdentity = r.string(o["age_identity"], at: "backup.decrypt.age_identity")
        c.ageIdentityEnv = r.string(o["age_identity_env"], at: "backup.decrypt.age_identity_env")
        c.gpgHomedir = r.string(o["gpg_homedir"], at: "backup.decrypt.gpg_homedir")
        c.gpgPassphraseEnv = r.string(o["gpg_passphrase_env"], at: "backup.decrypt.gpg_passphrase_env")
        if c == DecryptConfig() {
            r.fail("backup.decrypt", "give age_identity, age_identity_env, gpg_homedir or gpg_passphrase_env")
        }
        if c.ageIdentity != nil, c.ageIdentityEnv != nil {
            r.fail("backup.decrypt", "give age_identity or age_identity_env, not both")
        }
        for (key, name) in [("age_identity_env", c.ageIdentityEnv), ("gpg_passphrase_env", c.gpgPassphraseEnv)] {
            if let name, !Self.isVariableName(name) {
                r.fail("backup.decrypt.\(key)", "must be the name of an environment variable (letters, digits, _), not its value")
            }
        }
        for (key, path) in [("age_identity", c.ageIdentity), ("gpg_homedir", c.gpgHomedir)] {
            if let path, path.isEmpty { r.fail("backup.decrypt.\(key)", "must not be empty") }
        }
        return c
    }

    static func isVariableName(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first, !("0"..."9").contains(first) else { return false }
        return s.unicodeScalars.allSatisfy { $0 == "_" || ("A"..."Z").contains($0) || ("a"..."z").contains($0) || ("0"..."9").contains($0) }
    }

    /// A copy with relative paths resolved against the drill file's folder.
    func resolvingPaths(_ resolve: (String) -> String) -> DecryptConfig {
        var c = self
        c.ageIdentity = ageIdentity.map(resolve)
        c.gpgHomedir = gpgHomedir.map(resolve)
        return c
    }

    /// What is missing to remove `codec`, as a sentence for a failure, or nil when a key source is configured.
    public static func missingKey(for codec: Codec, in config: DecryptConfig?) -> String? {
        switch codec {
        case .age where config?.ageIdentity == nil && config?.ageIdentityEnv == nil:
            "the backup is age-encrypted: give backup.decrypt.age_identity (an identity file) or backup.decrypt.age_identity_env"
        case .openpgp where config?.gpgHomedir == nil && config?.gpgPassphraseEnv == nil:
            "the backup is OpenPGP-encrypted: give backup.decrypt.gpg_homedir (a GnuPG home with the secret key) or backup.decrypt.gpg_passphrase_env"
        default: nil
        }
    }
}

/// One decoding step of the pipeline, as data: the tool and its arguments, built by a pure function. Key material is
/// never an argument: an identity is a path (or `/dev/fd/3`, a pipe drill fills), a passphrase comes on descriptor 3.
public struct DecodingStage: Sendable, Equatable {
    public var codec: Codec
    public var arguments: [String]

    /// `identityFromPipe`: the age identity arrives on descriptor 3. `gpgHome`: the private copy gpg runs on.
    /// `passphraseFromPipe`: gpg reads the passphrase from descriptor 3.
    public static func make(_ codec: Codec, ageIdentity: String? = nil, identityFromPipe: Bool = false, gpgHome: String? = nil,
                            passphraseFromPipe: Bool = false) -> DecodingStage {
        let args: [String]
        switch codec {
        case .gzip, .bzip2, .xz: args = ["-dc"]
        case .zstd: args = ["-dcq"]
        case .lz4: args = ["-dc"]
        case .age: args = ["--decrypt", "--identity", identityFromPipe ? "/dev/fd/3" : (ageIdentity ?? "")]
        case .openpgp:
            var a = ["--homedir", gpgHome ?? "", "--batch", "--quiet", "--no-tty", "--no-permission-warning",
                     "--no-auto-key-retrieve", "--no-symkey-cache"]
            if passphraseFromPipe { a += ["--pinentry-mode", "loopback", "--passphrase-fd", "3"] }
            args = a + ["--decrypt"]
        }
        return DecodingStage(codec: codec, arguments: args)
    }
}
