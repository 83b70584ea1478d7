import DrillCore
import Foundation

/// Runs a restore tool, feeding its standard input from a producer while it runs (download and restore overlap).
enum StreamedRun {
    /// Runs `spec`; when `input` is a stream, writes it into the tool's standard input and closes it at the end.
    /// When the tool fails, its result wins over the producer's broken-pipe error.
    /// With `progress`, a tool that reads a local file or folder reports how much of it it has read
    /// (`ReadWatcher.processReads`: what the tool and its workers read).
    static func run(_ spec: ProcessSpec, input: RestoreInput, progress: TransferProgress? = nil) async throws -> (ProcessResult, StreamReceipt?) {
        let child = try ChildProcess(spec)
        guard case .stream(let produce) = input, let sink = child.stdin else {
            var watcher: ReadWatcher?
            if let progress, case .path(let path) = input {
                let total = ReadWatcher.size(of: path)
                watcher = ReadWatcher(total: total, progress: progress, measure: ReadWatcher.processReads(root: child.pid, total: total))
            }
            let r = await child.wait()
            await watcher?.stop()
            if r.succeeded { watcher?.finished() }
            try Task.checkCancellation()
            return (r, nil)
        }
        let producer = Task<StreamReceipt, any Error> {
            defer { try? sink.close() }
            return try await produce(sink)
        }
        let result = await withTaskCancellationHandler {
            await child.wait()
        } onCancel: {
            producer.cancel()
        }
        let produced = await producer.result
        try Task.checkCancellation()
        switch (result.succeeded, produced) {
        case (true, .success(let receipt)): return (result, receipt)
        case (true, .failure(let error)): throw error
        // A failed download explains a failed restore better than the tool's "unexpected end of file".
        case (false, .failure(let error)) where error is DrillError: throw error
        default: return (result, nil)
        }
    }
}
