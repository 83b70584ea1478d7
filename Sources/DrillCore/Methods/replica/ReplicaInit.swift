/// The SQL `drill replica init` prints: what an administrator runs once on the primary (and on each subscriber) so a
/// replica drill can run. drill never runs it itself.
public enum ReplicaInit {
    /// `role` is the drill's role (the primary URL's user); `table` the heartbeat table, if the drill uses one.
    public static func sql(role: String, table: String?, clone: Bool, subscriptions: [String] = [],
                           publications: [String] = []) -> String {
        let r = ReplicaMethod<ContinuousClock>.ident(role)
        var out = """
            -- On the primary (replicated to every standby), as a superuser:
            -- drill reads pg_stat_replication, pg_stat_wal_receiver and the slots; without pg_monitor the lag and LSN
            -- columns read as NULL, which naive tools report as no lag.
            GRANT pg_monitor TO \(r);

            """
        if clone {
            out += """
                -- clone: pg_basebackup from the standby needs a replication connection (and a "replication" line in
                -- the standby's pg_hba.conf for this role).
                ALTER ROLE \(r) REPLICATION;

                """
        }
        if let table {
            out += """
                -- The heartbeat: one row drill updates on its own connection (the only write it makes to production),
                -- stamped by the primary's clock_timestamp(), and reads back on each standby.
                CREATE TABLE IF NOT EXISTS \(table) (
                    id  int PRIMARY KEY CHECK (id = 1),
                    seq bigint NOT NULL,
                    ts  timestamptz NOT NULL
                );
                INSERT INTO \(table) (id, seq, ts) VALUES (1, 0, clock_timestamp()) ON CONFLICT (id) DO NOTHING;
                GRANT SELECT, UPDATE ON \(table) TO \(r);

                """
            if !subscriptions.isEmpty {
                let pubs = publications.isEmpty ? ["<publication>"] : publications
                out += """
                    -- Logical subscriptions (\(subscriptions.joined(separator: ", "))): publish the heartbeat so their lag
                    -- can be told in seconds, not only bytes:
                    \(pubs.map { "ALTER PUBLICATION \($0) ADD TABLE \(table);" }.joined(separator: "\n"))
                    -- and on each subscriber, in the subscription's database: the same CREATE TABLE as above, then
                    -- GRANT SELECT ON \(table) TO \(r); GRANT pg_monitor TO \(r);

                    """
            }
        }
        return out
    }
}
