import DrillCore
import Foundation
import Testing

@Suite struct ClusterDumpTests {
    static let globals = #"""
        CREATE ROLE alice;
        ALTER ROLE alice WITH NOSUPERUSER INHERIT NOCREATEROLE NOCREATEDB LOGIN NOREPLICATION NOBYPASSRLS PASSWORD 'SCRAM-SHA-256$4096:x';
        CREATE ROLE "Bob ""B""";
        ALTER ROLE "Bob ""B""" WITH NOSUPERUSER NOINHERIT NOCREATEROLE NOCREATEDB NOLOGIN NOREPLICATION NOBYPASSRLS;
        CREATE ROLE carol;
        ALTER ROLE carol WITH SUPERUSER INHERIT NOCREATEROLE NOCREATEDB NOLOGIN NOREPLICATION NOBYPASSRLS;
        CREATE ROLE postgres;
        ALTER ROLE postgres WITH SUPERUSER INHERIT CREATEROLE CREATEDB LOGIN REPLICATION BYPASSRLS;
        ALTER ROLE alice SET work_mem TO '8MB';
        GRANT "Bob ""B""" TO alice WITH INHERIT TRUE GRANTED BY postgres;
        GRANT pg_read_server_files TO carol WITH INHERIT TRUE GRANTED BY postgres;
        """#

    @Test func rolesKeepTheirNamesAndLoginOnly() {
        let g = ClusterDump.parseGlobals(Self.globals, keep: ["postgres", "drill_restore"])
        #expect(g.roles == [ClusterDump.Role(name: "alice", login: true, inherit: true),
                            ClusterDump.Role(name: "Bob \"B\"", login: false, inherit: false),
                            ClusterDump.Role(name: "carol", login: false, inherit: true)])
        #expect(g.roles[2].createStatement == "CREATE ROLE \"carol\" NOLOGIN INHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS")
        #expect(g.grantStatements == ["GRANT \"Bob \"\"B\"\"\" TO \"alice\""])
        #expect(g.skipped.contains("PASSWORD of role alice"))
        #expect(g.skipped.contains("SUPERUSER of role carol"))
        #expect(g.skipped.contains("membership of carol in pg_read_server_files"))
        #expect(g.skipped.contains { $0.contains("postgres") })
        #expect(g.skipped.contains { $0.contains("setting of role alice") })
    }

    @Test func readsSectionHeadersAndEncodings() {
        #expect(ClusterDump.sectionDatabase("-- Database \"shop\" dump") == "shop")
        #expect(ClusterDump.sectionDatabase("-- Databases") == nil)
        #expect(ClusterDump.encoding(ofCreateDatabase: "CREATE DATABASE shop WITH TEMPLATE = template0 ENCODING = 'UTF8' LOCALE = 'C';") == "UTF8")
        #expect(ClusterDump.encoding(ofCreateDatabase: "CREATE DATABASE x WITH ENCODING = 'UTF8 ; DROP';") == nil)
    }
}
