import DrillCore
import Foundation
import Testing

@Suite struct PostgresSelectionTests {
    static func install(_ v: String, _ dir: String, server: Bool = true) -> PostgresInstallation {
        PostgresInstallation(directory: dir, version: PostgresVersion(parsing: v)!, origin: "test", hasServer: server)
    }

    static let pg15 = install("15.18", "/usr/lib/postgresql/15/bin")
    static let pg17 = install("17.2", "/opt/pg17/bin")
    static let pg18 = install("18.6", "/opt/pg18/bin")
    static let inventory = PostgresInventory(installations: [pg15, pg18, pg17], searched: "test")

    @Test(arguments: [
        ("pg_restore (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)", 15, 18 as Int?),
        ("18.6", 18, 6), ("18\n", 18, nil), ("17beta1", 17, nil), ("9.6", 9, 6), ("postgres (PostgreSQL) 18.6", 18, 6),
    ])
    func parsesVersions(_ text: String, _ major: Int, _ minor: Int?) throws {
        let v = try #require(PostgresVersion(parsing: text))
        #expect(v.major == major)
        #expect(v.minor == minor)
    }

    @Test func refusesWhatIsNoVersion() {
        #expect(PostgresVersion(parsing: "unknown") == nil)
        #expect(PostgresVersion(parsing: "") == nil)
    }

    @Test func aDumpGetsTheOldestMajorAtLeastItsPgDump() {
        let need15 = VersionNeed(version: PostgresVersion(parsing: "15.4")!, rule: .atLeast, source: "archive header")
        #expect(PostgresSelection.choose(need15, in: Self.inventory, needsServer: true) == Self.pg15)
        let need16 = VersionNeed(version: PostgresVersion(parsing: "16.1")!, rule: .atLeast, source: "archive header")
        #expect(PostgresSelection.choose(need16, in: Self.inventory, needsServer: true) == Self.pg17)
        let need18 = VersionNeed(version: PostgresVersion(parsing: "18.6")!, rule: .atLeast, source: "archive header")
        #expect(PostgresSelection.choose(need18, in: Self.inventory, needsServer: true) == Self.pg18)
    }

    @Test func aPhysicalBackupGetsItsOwnMajorOnly() {
        let need17 = VersionNeed(version: PostgresVersion(major: 17), rule: .sameMajor, source: "PG_VERSION")
        #expect(PostgresSelection.choose(need17, in: Self.inventory, needsServer: true) == Self.pg17)
        let need16 = VersionNeed(version: PostgresVersion(major: 16), rule: .sameMajor, source: "PG_VERSION")
        #expect(PostgresSelection.choose(need16, in: Self.inventory, needsServer: true) == nil)
    }

    @Test func theNewestMinorOfAMajorWins() {
        let older = Self.install("18.1", "/old/bin")
        let inv = PostgresInventory(installations: [older, Self.pg18], searched: "test")
        let need = VersionNeed(version: PostgresVersion(major: 18), rule: .sameMajor, source: "PG_VERSION")
        #expect(PostgresSelection.choose(need, in: inv, needsServer: true) == Self.pg18)
    }

    @Test func anUnknownVersionTakesTheFirstInstallation() {
        #expect(PostgresSelection.choose(nil, in: Self.inventory, needsServer: true) == Self.pg15)
    }

    @Test func clientToolsOnlyServeAServerTarget() {
        let clients = Self.install("18.6", "/opt/clients/bin", server: false)
        let inv = PostgresInventory(installations: [Self.pg15, clients], searched: "test")
        let need = VersionNeed(version: PostgresVersion(parsing: "18.6")!, rule: .atLeast, source: "archive header")
        #expect(PostgresSelection.choose(need, in: inv, needsServer: false) == clients)
        #expect(PostgresSelection.choose(need, in: inv, needsServer: true) == nil)
    }

    @Test func noneFitsNamesTheBackupsVersionAndTheVersionsFound() {
        let inv = PostgresInventory(installations: [Self.pg15], searched: "pg_config --bindir, PATH")
        let need = VersionNeed(version: PostgresVersion(parsing: "18.6")!, rule: .atLeast, source: "archive header")
        let e = PostgresSelection.noneFits(need, in: inv, needsServer: true)
        #expect(e.code == .noPostgres)
        #expect(e.message.contains("pg_dump 18.6"))
        #expect(e.message.contains("PostgreSQL 18 or newer"))
        #expect(e.message.contains("15.18 (/usr/lib/postgresql/15/bin)"))
    }

    static func built(_ v: String, _ dir: String, reads: [DumpCompression]?) -> PostgresInstallation {
        var i = install(v, dir)
        i.compression = reads.map { CompressionSupport(algorithms: $0, source: "pg_config --configure") }
        return i
    }

    static func need(_ v: String, _ c: DumpCompression?) -> VersionNeed {
        VersionNeed(version: PostgresVersion(parsing: v)!, rule: .atLeast, source: "archive header", compression: c)
    }

    @Test func aCompressedArchiveGetsABuildThatReadsIt() {
        let pg15 = Self.built("15.18", "/usr/lib/postgresql/15/bin", reads: [.gzip])
        let pg17gzip = Self.built("17.2", "/opt/pg17/bin", reads: [.gzip])
        let pg18 = Self.built("18.6", "/opt/pg18/bin", reads: [.gzip, .lz4, .zstd])
        let inv = PostgresInventory(installations: [pg15, pg17gzip, pg18], searched: "test")
        // The oldest major that fits would be 17, but it is built without lz4: 18 reads it.
        #expect(PostgresSelection.choose(Self.need("16.4", .lz4), in: inv, needsServer: true) == pg18)
        #expect(PostgresSelection.choose(Self.need("16.4", .zstd), in: inv, needsServer: true) == pg18)
        #expect(PostgresSelection.choose(Self.need("16.4", .gzip), in: inv, needsServer: true) == pg17gzip)
        #expect(PostgresSelection.choose(Self.need("16.4", DumpCompression.none), in: inv, needsServer: true) == pg17gzip)
        #expect(PostgresSelection.choose(Self.need("15.4", .gzip), in: inv, needsServer: true) == pg15)
        // A build without zlib cannot read gzip archives (pg_dump's default).
        let noZlib = Self.built("17.3", "/opt/nozlib/bin", reads: [])
        let inv2 = PostgresInventory(installations: [noZlib, pg18], searched: "test")
        #expect(PostgresSelection.choose(Self.need("17.0", .gzip), in: inv2, needsServer: true) == pg18)
        #expect(PostgresSelection.choose(Self.need("17.0", DumpCompression.none), in: inv2, needsServer: true) == noZlib)
    }

    @Test func aBuildKnownToReadTheCompressionComesBeforeOneNotKnown() {
        let unknown17 = Self.built("17.2", "/opt/pg17/bin", reads: nil)
        let lz4_18 = Self.built("18.6", "/opt/pg18/bin", reads: [.gzip, .lz4])
        let gzip18 = Self.built("18.6", "/opt/pg18/bin", reads: [.gzip])
        #expect(PostgresSelection.choose(Self.need("17.2", .lz4), in: PostgresInventory(installations: [unknown17, lz4_18], searched: "t"),
                                         needsServer: true) == lz4_18)
        // Unknown may read it (its pg_restore then says for itself); known to lack it never does.
        #expect(PostgresSelection.choose(Self.need("17.2", .lz4), in: PostgresInventory(installations: [gzip18, unknown17], searched: "t"),
                                         needsServer: true) == unknown17)
        #expect(PostgresSelection.choose(Self.need("17.2", .lz4), in: PostgresInventory(installations: [gzip18], searched: "t"),
                                         needsServer: true) == nil)
    }

    @Test func noneFitsNamesTheCompressionAndWhatEachInstallationLacks() {
        let inv = PostgresInventory(installations: [Self.built("15.18", "/usr/lib/postgresql/15/bin", reads: [.gzip]),
                                                    Self.built("18.6", "/opt/pg18/bin", reads: [.gzip]),
                                                    Self.install("18.6", "/opt/clients/bin", server: false)],
                                    searched: "DRILL_PG_BINDIR")
        let e = PostgresSelection.noneFits(Self.need("17.12", .lz4), in: inv, needsServer: true)
        #expect(e.code == .noPostgres)
        #expect(e.message.contains("the backup needs PostgreSQL 17 or newer built with lz4 (written by pg_dump 17.12, lz4-compressed, from the archive header)"),
                "\(e.message)")
        #expect(e.message.contains("15.18 (/usr/lib/postgresql/15/bin): older than 17"))
        #expect(e.message.contains("18.6 (/opt/pg18/bin): built without lz4 (pg_config --configure)"))
        #expect(e.message.contains("18.6 (/opt/clients/bin): client tools only"))
        #expect(e.message.contains("install PostgreSQL 17 or newer built with lz4"))
        let gzip = PostgresSelection.noneFits(Self.need("17.12", .gzip), in: PostgresInventory(
            installations: [Self.built("17.1", "/opt/nozlib/bin", reads: [])], searched: "t"), needsServer: true)
        #expect(gzip.message.contains("17.1 (/opt/nozlib/bin): built without zlib"), "\(gzip.message)")
    }

    @Test func readsAPlainDumpsHeaderComments() throws {
        let sql = """
            --
            -- PostgreSQL database dump
            --

            \\restrict abc

            -- Dumped from database version 18.6
            -- Dumped by pg_dump version 18.6

            SET statement_timeout = 0;
            """
        let h = try #require(PlainDumpHeader.parse(Array(sql.utf8)))
        #expect(h.serverVersion == "18.6")
        #expect(h.pgDumpVersion == "18.6")
        #expect(!h.isCluster)
        let need = try #require(VersionNeed.dump(pgDump: h.pgDumpVersion, server: h.serverVersion, source: "plain"))
        #expect(need.version == PostgresVersion(major: 18, minor: 6))
        #expect(PlainDumpHeader.parse(Array("SELECT 1;".utf8)) == nil)
    }

    @Test func recognisesAClusterDump() throws {
        let sql = "--\n-- PostgreSQL database cluster dump\n--\n\n-- Dumped from database version 18.6\n-- Dumped by pg_dumpall version 18.6\n"
        let h = try #require(PlainDumpHeader.parse(Array(sql.utf8)))
        #expect(h.isCluster)
        #expect(h.pgDumpVersion == "18.6")
    }

    @Test func theChoiceRoundTripsThroughTheReportsJSON() throws {
        let need = VersionNeed(version: PostgresVersion(parsing: "18.6")!, rule: .atLeast, source: "archive header")
        let choice = PostgresChoice(need: need, chosen: Self.pg18, inventory: Self.inventory)
        let data = try DrillReport.encoder().encode(choice)
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.contains("\"backup_version\" : \"18.6\""))
        #expect(text.contains("\"rule\" : \"at_least\""))
        #expect(try DrillReport.decoder().decode(PostgresChoice.self, from: data) == choice)
        #expect(!text.contains("compression"))

        let lz4 = PostgresChoice(need: Self.need("17.12", .lz4), chosen: Self.built("17.12", "/opt/pg17/bin", reads: [.gzip, .lz4, .zstd]),
                                 inventory: Self.inventory)
        let lz4Data = try DrillReport.encoder().encode(lz4)
        let lz4Text = String(decoding: lz4Data, as: UTF8.self)
        #expect(lz4Text.contains("\"compression\" : \"lz4\""))
        #expect(lz4Text.contains("\"compression_support\" : {"))
        #expect(lz4Text.contains("\"source\" : \"pg_config --configure\""))
        #expect(try DrillReport.decoder().decode(PostgresChoice.self, from: lz4Data) == lz4)
    }

    @Test func restorePostgresMustBeAnAbsoluteFolder() throws {
        let tiers = ["t": TierConfig(name: "t", rto: .init(seconds: 3600), rpo: .init(seconds: 300))]
        func parse(_ bin: String) throws -> (DrillConfig?, [ConfigIssue]) {
            let r = ConfigReader(file: "drills/x.json")
            let json = #"{ "version": 1, "tier": "t", "backup": { "location": "/b" }, "restore": { "postgres": "BIN" } }"#
                .replacingOccurrences(of: "BIN", with: bin)
            let d = DrillConfig.parse(try JSONValue.parse(Data(json.utf8)), name: "x", file: "drills/x.json", tiers: tiers, reader: r)
            return (d, r.issues)
        }
        #expect(try parse("pg18/bin").1.contains { $0.keyPath == "restore.postgres" })
        let (d, issues) = try parse("/opt/pg18/bin")
        #expect(issues.isEmpty)
        #expect(d?.restore.postgres == "/opt/pg18/bin")
    }
}
