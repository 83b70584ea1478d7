import DrillCore
import Foundation
import Testing

/// The one-pass split of a pg_dumpall stream: the same parts whatever the chunk boundaries, bodies without their
/// preamble or `\connect`, COPY data never taken for structure, long lines streamed through.
@Suite struct ClusterDumpSplitterTests {
    /// The shape of pg_dumpall 15.18's output (restricted mode), trimmed.
    static let dump = #"""
        --
        -- PostgreSQL database cluster dump
        --

        \restrict KEYG

        SET default_transaction_read_only = off;

        CREATE ROLE alice;
        ALTER ROLE alice WITH NOSUPERUSER INHERIT NOCREATEROLE NOCREATEDB LOGIN NOREPLICATION NOBYPASSRLS PASSWORD 'SCRAM-SHA-256$4096:x';

        \unrestrict KEYG

        --
        -- Databases
        --

        --
        -- Database "template1" dump
        --

        \connect template1

        --
        -- PostgreSQL database dump
        --

        SET statement_timeout = 0;

        --
        -- PostgreSQL database dump complete
        --

        --
        -- Database "a" dump
        --

        --
        -- PostgreSQL database dump
        --

        \restrict KEYA

        SET statement_timeout = 0;

        CREATE DATABASE a WITH TEMPLATE = template0 ENCODING = 'UTF8' LOCALE_PROVIDER = libc LOCALE = 'C.UTF-8';


        ALTER DATABASE a OWNER TO alice;

        \unrestrict KEYA
        \connect a
        \restrict KEYA

        SET statement_timeout = 0;
        ALTER DATABASE a SET search_path TO 'x';
        CREATE TABLE public.t (
            id integer,
            n text
        );

        COPY public.t (id, n) FROM stdin;
        1	x
        -- Database "fake" dump
        \connect evil
        ALTER DATABASE a OWNER TO carol;
        \.


        --
        -- PostgreSQL database dump complete
        --

        \unrestrict KEYA

        --
        -- Database "postgres" dump
        --

        \connect postgres

        SELECT 1;

        --
        -- PostgreSQL database dump complete
        --

        --
        -- PostgreSQL database cluster dump complete
        --

        CREATE ROLE after_the_end SUPERUSER;

        """#

    /// Feeds `text` in chunks of `size` bytes; returns the events with consecutive bodies joined.
    static func split(_ text: String, chunk size: Int) -> ([ClusterDumpSplitter.Event], ClusterDumpSplitter) {
        var s = ClusterDumpSplitter()
        let bytes = Data(text.utf8)
        var events: [ClusterDumpSplitter.Event] = []
        var i = 0
        while i < bytes.count {
            events += s.feed(bytes.subdata(in: i..<min(i + size, bytes.count)))
            i += size
        }
        events += s.finish()
        var joined: [ClusterDumpSplitter.Event] = []
        for e in events {
            if case .body(let more) = e, case .body(let before)? = joined.last {
                joined[joined.count - 1] = .body(before + more)
            } else {
                joined.append(e)
            }
        }
        return (joined, s)
    }

    static func body(_ e: ClusterDumpSplitter.Event?) -> String? {
        if case .body(let d)? = e { return String(decoding: d, as: UTF8.self) }
        return nil
    }

    @Test("the parts of a cluster dump, whatever the chunk size", arguments: [1, 2, 7, 64, 4096, 1 << 20])
    func parts(chunk: Int) throws {
        let (events, splitter) = Self.split(Self.dump, chunk: chunk)
        guard case .globals(let globals)? = events.first else { Issue.record("no globals first: \(events)"); return }
        #expect(globals.contains("CREATE ROLE alice;\n"))
        #expect(globals.contains("PASSWORD"))
        #expect(!globals.contains("-- Databases"))
        #expect(events[1] == .database(name: "template1", encoding: nil))
        #expect(Self.body(events[2])?.contains("SET statement_timeout = 0;") == true)
        #expect(events[3] == .databaseEnd)
        #expect(events[4] == .database(name: "a", encoding: "UTF8"))
        let a = try #require(Self.body(events[5]))
        // The preamble (CREATE DATABASE, its OWNER, the \connect) is not in the body; the COPY data are, verbatim.
        #expect(!a.contains("CREATE DATABASE"))
        #expect(!a.contains("\\connect a"))
        #expect(!a.contains("search_path TO 'x'"), "ALTER DATABASE inside a body is dropped")
        #expect(a.hasPrefix("\\restrict KEYA\n"))
        #expect(a.contains("COPY public.t (id, n) FROM stdin;\n1\tx\n-- Database \"fake\" dump\n\\connect evil\nALTER DATABASE a OWNER TO carol;\n\\.\n"))
        #expect(a.contains("-- PostgreSQL database dump complete\n"))
        #expect(a.hasSuffix("\\unrestrict KEYA\n\n--\n"))
        #expect(events[6] == .databaseEnd)
        #expect(events[7] == .database(name: "postgres", encoding: nil))
        #expect(Self.body(events[8])?.contains("SELECT 1;") == true)
        #expect(events[9] == .databaseEnd)
        #expect(events[10] == .complete)
        #expect(events.count == 11, "nothing after the complete line: \(events.count)")
        #expect(splitter.isComplete)
        #expect(splitter.droppedLines == 1)
        #expect(!events.contains { Self.body($0)?.contains("after_the_end") == true })
    }

    @Test("a truncated dump ends its open body and never says complete")
    func truncated() {
        let cut = String(Self.dump.prefix(upTo: Self.dump.range(of: "CREATE TABLE public.t")!.lowerBound))
        let (events, splitter) = Self.split(cut, chunk: 100)
        #expect(events.last == .databaseEnd)
        #expect(!events.contains(.complete))
        #expect(!splitter.isComplete)
        let (none, _) = Self.split("--\n-- PostgreSQL database cluster dump\n--\nCREATE ROLE x;\n", chunk: 10)
        #expect(none.isEmpty, "no globals event before -- Databases: \(none)")
    }

    @Test("a globals-only dump (pg_dumpall -g) has globals and is complete")
    func globalsOnly() {
        let text = "--\n-- PostgreSQL database cluster dump\n--\n\nCREATE ROLE bob;\n\n--\n-- PostgreSQL database cluster dump complete\n--\n"
        let (events, splitter) = Self.split(text, chunk: 5)
        #expect(events.count == 2)
        if case .globals(let g)? = events.first { #expect(g.contains("CREATE ROLE bob;")) } else { Issue.record("\(events)") }
        #expect(events.last == .complete)
        #expect(splitter.isComplete)
    }

    @Test("long lines stream through whole; a long COPY statement starts COPY data; a long ALTER DATABASE is dropped whole",
          arguments: [3, 1000, 1 << 20])
    func longLines(chunk: Int) throws {
        let value = String(repeating: "v", count: 20_000)
        let columns = (0..<800).map { "column_\($0)" }.joined(separator: ", ")
        let text = """
            --
            -- Databases
            --
            -- Database "big" dump
            \\connect big
            INSERT INTO t VALUES ('\(value)');
            ALTER DATABASE big SET application_name = '\(value)';
            COPY public.wide (\(columns)) FROM stdin;
            -- Database "not_a_section" dump
            \\.
            -- PostgreSQL database dump complete
            -- PostgreSQL database cluster dump complete

            """
        let (events, splitter) = Self.split(text, chunk: chunk)
        #expect(events.first == .globals("--\n"))
        #expect(events[1] == .database(name: "big", encoding: nil))
        let body = try #require(Self.body(events[2]))
        #expect(body.hasPrefix("INSERT INTO t VALUES ('\(value)');\nCOPY public.wide ("))
        #expect(!body.contains("application_name"))
        #expect(body.contains(") FROM stdin;\n-- Database \"not_a_section\" dump\n\\.\n-- PostgreSQL database dump complete\n"))
        #expect(Array(events.suffix(2)) == [.databaseEnd, .complete])
        #expect(splitter.droppedLines == 1)
    }

    @Test("the globals are bounded: a line longer than the head is left out and said so")
    func globalsBounded() {
        let text = "CREATE ROLE a;\nALTER ROLE a SET x = '\(String(repeating: "y", count: 10_000))';\n-- Databases\n"
        let (events, splitter) = Self.split(text, chunk: 512)
        #expect(events == [.globals("CREATE ROLE a;\n")])
        #expect(splitter.globalsTruncated)
    }
}
