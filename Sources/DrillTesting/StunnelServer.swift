import DrillLive
import Foundation

/// A TLS terminator in front of a plain-HTTP server on 127.0.0.1 (moto): Debian's `stunnel4` with a certificate for
/// `localhost` signed by a throwaway CA made with `openssl` for this test process. pgBackRest 2.45 speaks only HTTPS
/// to S3, verifies the certificate and needs a DNS name, so this is how it reaches moto.
public final class StunnelServer: @unchecked Sendable {
    public let port: Int
    /// The CA certificate clients trust (`repo1-storage-ca-file`).
    public let caFile: String
    private let child: ChildProcess
    private let folder: TempFolder

    private init(port: Int, caFile: String, child: ChildProcess, folder: TempFolder) {
        self.port = port
        self.caFile = caFile
        self.child = child
        self.folder = folder
    }

    /// Makes the CA and the `localhost` certificate in `folder`, starts stunnel4 in the foreground (its child: it ends
    /// with this process) and waits for its port.
    public static func start(in folder: TempFolder, upstreamPort: Int) async throws -> StunnelServer {
        guard let exe = ["/usr/bin/stunnel4", "/usr/bin/stunnel"].first(where: FileManager.default.isExecutableFile) else {
            throw FixtureError("stunnel4 is not installed: run scripts/install-deps.sh --test")
        }
        ExitCleanup.register(pid: nil, paths: [folder.path])
        let dir = folder.path
        func path(_ n: String) -> String { (dir as NSString).appendingPathComponent(n) }
        try "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
            .write(toFile: path("ext.cnf"), atomically: true, encoding: .utf8)
        for args in [
            ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", path("ca.key"), "-out", path("ca.pem"), "-days", "2",
             "-subj", "/CN=drill test CA", "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
            ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", path("server.key"), "-out", path("server.csr"), "-subj", "/CN=localhost"],
            ["x509", "-req", "-in", path("server.csr"), "-CA", path("ca.pem"), "-CAkey", path("ca.key"), "-CAcreateserial",
             "-out", path("server.pem"), "-days", "2", "-extfile", path("ext.cnf")],
        ] {
            let r = try await ChildProcess.run(ProcessSpec(executable: "/usr/bin/openssl", arguments: args))
            guard r.succeeded else { throw FixtureError("openssl \(args[0]) failed: \(r.stderr)") }
        }
        chmod(path("ca.pem"), 0o644)
        var lastError: (any Error)?
        for _ in 0..<3 {
            let port = try FixtureProcess.freePort()
            let conf = """
                foreground = yes
                pid =
                debug = 3
                [s3]
                accept = 127.0.0.1:\(port)
                connect = 127.0.0.1:\(upstreamPort)
                cert = \(path("server.pem"))
                key = \(path("server.key"))

                """
            try conf.write(toFile: path("stunnel.conf"), atomically: true, encoding: .utf8)
            let child = try ChildProcess(ProcessSpec(executable: exe, arguments: [path("stunnel.conf")],
                                                     stdout: .file(path("stunnel.log")), stderr: .file(path("stunnel.log"))))
            ChildRegistry.shared.add(child.pid)
            do {
                try await FixtureProcess.waitForPort(port, timeout: .seconds(10))
                return StunnelServer(port: port, caFile: path("ca.pem"), child: child, folder: folder)
            } catch {
                child.signal(SIGTERM)
                ChildRegistry.shared.remove(child.pid)
                lastError = error
            }
        }
        throw lastError ?? FixtureError("stunnel did not start")
    }

    public func stop() {
        child.signal(SIGTERM)
        ChildRegistry.shared.remove(child.pid)
    }

    deinit { stop() }
}
