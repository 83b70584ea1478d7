import DrillCore
import Foundation

/// Runs a restore tool, feeding its standard input from a producer while it runs (download and restore overlap).
enum StreamedRun {
    /// Runs `spec`; when `input` is a stream, writes it into the tool's standard input and closes it at the end.
    /// When the tool fails, its result wins over the producer's broken-pipe error.
    static func run(_ spec: ProcessSpec, input: RestoreInput) async throws -> (ProcessResult, StreamReceipt?) {
        let child = try ChildProcess(spec)
        guard case .stream(let produce) = input, let sink = child.stdin else {
            let r = await child.wait()
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
