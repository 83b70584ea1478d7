import Foundation

/// Writing to the terminal. `FileHandle` rather than `fputs(stderr)`, which Swift 6 rejects; the throwing write, so a
/// closed pipe or terminal (`drill run … | head`, a dropped SSH session) is ignored instead of crashing the run
/// before it has torn its scratch database down.
enum Console {
    static func out(_ s: String) { write(FileHandle.standardOutput, s + "\n") }
    static func error(_ s: String) { write(FileHandle.standardError, s + "\n") }
    static func write(_ handle: FileHandle, _ s: String) { try? handle.write(contentsOf: Data(s.utf8)) }
    static var stderrIsTerminal: Bool { isatty(2) == 1 }
}
