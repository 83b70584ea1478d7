import Foundation

extension DumpMethod {
    /// Starts decoding an `encoded` backup and records what its layers hide. A parallel restore of an archive inside
    /// is refused: `pg_restore --jobs` needs a seekable file, and drill never writes a decoded backup to disk.
    func decode(_ drill: DrillConfig, _ located: LocatedBackup, _ raw: RestoreInput, _ run: MethodRun) async throws -> DecodedBackup {
        guard let decoder else {
            throw DrillError(.unsupported, "this build of drill cannot decode \(located.object.name) (compressed or encrypted)")
        }
        let decoded = try await decoder.open(raw, name: located.object.name, decrypt: drill.backup.decrypt, drill: drill.name)
        let found = decoded.found
        if !found.format.canStream {
            await decoded.cancel()
            throw DrillError(.backupUnreadable, "\(located.object.name) holds a \(found.format.rawValue) backup inside \(found.description): only custom, tar and plain dumps can be restored from a stream")
        }
        if found.format.usesPgRestore, found.format != .tar, let asked = drill.restore.jobs, asked > 1 {
            await decoded.cancel()
            throw DrillError(.configuration, Self.parallelRefusal(name: located.object.name, found: found, jobs: asked))
        }
        run.backup {
            $0.encoding = found.codecs.map(\.rawValue)
            $0.contentFormat = found.format.rawValue
            if let header = decoded.header {
                $0.sourceDatabase = header.databaseName
                $0.sourceServerVersion = header.serverVersion
                $0.pgDumpVersion = header.pgDumpVersion
                $0.createdAt = header.createdAt(in: run.context.archiveTimeZone)
            } else if let plain = decoded.plainHeader {
                $0.sourceServerVersion = plain.serverVersion
                $0.pgDumpVersion = plain.pgDumpVersion
            }
        }
        run.logger.info("decoding", metadata: ["backup": "\(located.object.name)", "layers": "\(found.description)"])
        return decoded
    }

    /// The PostgreSQL the dump inside the layers needs, from its archive header (with its data's compression) or header
    /// comment.
    static func need(_ decoded: DecodedBackup) -> VersionNeed? {
        if let h = decoded.header {
            return VersionNeed.dump(pgDump: h.pgDumpVersion, server: h.serverVersion,
                                    source: "archive header inside \(decoded.found.codecs.map(\.rawValue).joined(separator: "+"))",
                                    compression: h.compression)
        }
        if let p = decoded.plainHeader {
            return VersionNeed.dump(pgDump: p.pgDumpVersion, server: p.serverVersion, source: "\(p.sourceName) inside \(decoded.found.codecs.map(\.rawValue).joined(separator: "+"))")
        }
        return nil
    }

    /// Why a parallel restore of a decoded archive is refused, and the two ways out.
    static func parallelRefusal(name: String, found: DecodedFormat, jobs: Int) -> String {
        let encrypted = found.codecs.contains { $0.isEncryption }
        var why = "\(name) is a \(found.description) dump and restore.jobs is \(jobs): a parallel pg_restore needs a seekable file, "
            + "and drill decodes on the fly without writing the \(encrypted ? "decrypted" : "decompressed") backup to disk. "
            + "Set restore.jobs: 1 to restore it streamed"
        if encrypted {
            why += " (an encrypted backup is only ever restored that way)."
        } else {
            why += ", or decompress it into a private staging folder before the drill and point backup.location there for a parallel restore."
        }
        return why
    }
}
