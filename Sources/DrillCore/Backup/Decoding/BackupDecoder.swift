import Foundation

/// A backup's plaintext, being decoded on the fly: the layers removed so far, the format found inside, and the
/// plaintext as a restore input. The plaintext's first bytes were read into memory to recognise it; nothing of it is
/// written to disk.
public struct DecodedBackup: Sendable {
    public var found: DecodedFormat
    /// The header of a pg_dump archive inside (custom or tar), when it has one.
    public var header: ArchiveHeader?
    /// The header comment of a plain dump inside, when it has one.
    public var plainHeader: PlainDumpHeader?
    /// The plaintext (its first bytes included), for the restore tool's standard input. Its receipt is the one of the
    /// backup's raw bytes (size and digest of what was stored).
    public var input: RestoreInput
    /// Stops the decoders when the input will not be consumed (the restore is not started).
    public var cancel: @Sendable () async -> Void

    public init(found: DecodedFormat, header: ArchiveHeader?, plainHeader: PlainDumpHeader? = nil, input: RestoreInput,
                cancel: @escaping @Sendable () async -> Void) {
        self.found = found
        self.header = header
        self.plainHeader = plainHeader
        self.input = input
        self.cancel = cancel
    }
}

/// Removes compression and encryption layers from a backup as it is read (`age`, `gpg`, `zstd`, … as child processes
/// joined by pipes): the port behind `DumpMethod`'s restores of `encoded` backups.
public protocol BackupDecoder: Sendable {
    /// Starts decoding `raw` (a local file or a producer of the stored bytes), removes every layer it recognises, and
    /// returns once the format inside is known. Throws `DrillError` (`decryption_failed` for a key that does not
    /// open the backup) without ever showing key material. `drill` names the drill whose run registry records what
    /// the decoding leaves on disk while it runs (a private GnuPG home), for the cleanup after a hard kill.
    func open(_ raw: RestoreInput, name: String, decrypt: DecryptConfig?, drill: String?) async throws -> DecodedBackup
}
