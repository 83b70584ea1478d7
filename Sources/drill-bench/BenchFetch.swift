import DrillCore
import DrillLive
import Foundation

/// `drill-bench fetch LOCATION [--endpoint URL] [--region R] [--mode stage|stream] [--to PATH] [--dir DIR]`
///
/// Fetches the newest object at LOCATION through drill's own store (list, then stage or stream) and prints one line:
/// bytes, seconds, MiB/s and the SHA-256 computed on the fly. A diagnostic for bench/fetch.sh; not part of `drill`.
@main
struct BenchFetch {
    static func main() async {
        var args = Array(CommandLine.arguments.dropFirst())
        if args.first == "make-archive" { return await BenchArchive.main(Array(args.dropFirst())) }
        guard args.first == "fetch", args.count >= 2 else { usage() }
        args.removeFirst()
        let location = args.removeFirst()
        var options: [String: String] = [:]
        while let flag = args.first, flag.hasPrefix("--"), args.count >= 2 {
            options[String(flag.dropFirst(2))] = args[1]
            args.removeFirst(2)
        }
        guard args.isEmpty else { usage() }
        do {
            let store = try StoreRegistry.live().store(location: location, endpoint: options["endpoint"], region: options["region"])
            guard let object = try await store.list(matching: nil).filter({ !$0.name.hasSuffix(".sha256") }).latest() else {
                throw DrillError(.backupNotFound, "nothing at \(location)")
            }
            let start = ContinuousClock.now
            let bytes: Int64, digest: String
            switch options["mode"] ?? "stream" {
            case "stage":
                let dir = options["dir"] ?? NSTemporaryDirectory()
                let staged = try await store.stage(object, into: dir, progress: nil)
                try? FileManager.default.removeItem(atPath: staged.path)
                (bytes, digest) = (staged.sizeBytes, staged.sha256)
            case "stream":
                let path = options["to"] ?? "/dev/null"
                guard let sink = FileHandle(forWritingAtPath: path) else { throw DrillError(.configuration, "cannot open \(path)") }
                let receipt = try await store.stream(object, to: sink, progress: nil)
                (bytes, digest) = (receipt.bytes, receipt.sha256)
            default:
                usage()
            }
            let c = (ContinuousClock.now - start).components
            let seconds = Double(c.seconds) + Double(c.attoseconds) / 1e18
            print(String(format: "%@ bytes=%lld seconds=%.3f MiB/s=%.1f sha256=%@", object.uri, bytes, seconds,
                         Double(bytes) / 1_048_576 / seconds, digest))
        } catch {
            FileHandle.standardError.write(Data("drill-bench: \(error)\n".utf8))
            exit(3)
        }
    }

    static func usage() -> Never {
        FileHandle.standardError.write(Data("usage: drill-bench fetch LOCATION [--endpoint URL] [--region R] [--mode stage|stream] [--to PATH] [--dir DIR]\n".utf8))
        exit(2)
    }
}
