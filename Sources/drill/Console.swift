import Foundation

/// Writing to the terminal. `FileHandle` rather than `fputs(stderr)`, which Swift 6 rejects.
enum Console {
    static func out(_ s: String) { FileHandle.standardOutput.write(Data((s + "\n").utf8)) }
    static func error(_ s: String) { FileHandle.standardError.write(Data((s + "\n").utf8)) }
    static var stderrIsTerminal: Bool { isatty(2) == 1 }
}
