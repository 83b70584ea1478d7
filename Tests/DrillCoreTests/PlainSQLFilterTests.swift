import DrillCore
import Foundation
import Testing

@Suite("Plain SQL filter")
struct PlainSQLFilterTests {
    static let dump = """
        --
        -- PostgreSQL database dump
        --
        CREATE TABLE public.t (v text);
        ALTER TABLE public.t OWNER TO shop;
        COPY public.t (v) FROM stdin;
        ALTER TABLE x OWNER TO y;
        GRANT nothing;
        \\.
        GRANT SELECT ON TABLE public.t TO reader;
        REVOKE ALL ON SCHEMA public FROM PUBLIC;
        CREATE INDEX i ON public.t (v);
        --
        -- PostgreSQL database dump complete
        --

        """

    @Test(arguments: [1, 3, 7, 64, 100_000])
    func dropsOwnershipAndPrivilegesOutsideCopy(chunk: Int) {
        var f = PlainSQLFilter()
        var out = Data()
        let bytes = Data(Self.dump.utf8)
        var i = 0
        while i < bytes.count {
            out.append(f.feed(bytes.subdata(in: i..<min(bytes.count, i + chunk))))
            i += chunk
        }
        out.append(f.finish())
        let text = String(decoding: out, as: UTF8.self)
        #expect(!text.contains("OWNER TO shop"))
        #expect(!text.contains("TO reader"))
        #expect(!text.contains("REVOKE"))
        // COPY data is never touched, even when it looks like SQL.
        #expect(text.contains("ALTER TABLE x OWNER TO y;\nGRANT nothing;\n\\.\n"))
        #expect(text.contains("CREATE INDEX i ON public.t (v);"))
        #expect(f.droppedStatements == 3)
        #expect(f.sawCompletionMarker)
        #expect(f.bytesIn == Int64(bytes.count))
    }

    @Test func truncatedDumpHasNoMarker() {
        var f = PlainSQLFilter()
        _ = f.feed(Data(Self.dump.prefix(200).utf8))
        _ = f.finish()
        #expect(!f.sawCompletionMarker)
    }
}

@Suite("Plain SQL filter keeps the restore in the scratch database")
struct PlainSQLFilterSafetyTests {
    func run(_ sql: String) -> (String, PlainSQLFilter) {
        var f = PlainSQLFilter()
        var out = f.feed(Data(sql.utf8))
        out.append(f.finish())
        return (String(decoding: out, as: UTF8.self), f)
    }

    @Test(arguments: ["DROP DATABASE shop;", "CREATE DATABASE shop WITH TEMPLATE = template0;", "ALTER DATABASE shop SET x = 1;",
                      "CREATE ROLE admin;", "\\connect shop", "\\c shop", "\\! rm -rf /", "\\o /etc/passwd"])
    func stopsBeforeTheStatement(line: String) {
        let (out, f) = run("SET x = 1;\n\(line)\nCREATE TABLE after (i int);\n")
        #expect(f.violation != nil)
        #expect(out == "SET x = 1;\n", "nothing from the offending line on may pass")
    }

    @Test func pgDumpRestrictLinesAreDroppedNotCounted() {
        let (out, f) = run("\\restrict abc\nCREATE TABLE t (i int);\n\\unrestrict abc\n")
        #expect(f.violation == nil)
        #expect(out == "CREATE TABLE t (i int);\n")
        #expect(f.droppedStatements == 0)
    }

    @Test func copyDataIsNeverInspected() {
        let (out, f) = run("COPY t (v) FROM stdin;\nDROP DATABASE x;\n\\connect y\n\\.\n")
        #expect(f.violation == nil)
        #expect(out.contains("DROP DATABASE x;\n\\connect y\n\\.\n"))
    }
}
