import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Splits a `pg_dumpall` cluster dump, chunk by chunk as it streams, into its parts: the globals (roles and
/// memberships, handed over as text for `ClusterDump.parseGlobals`, never run), then each database's section, whose
/// `pg_dump` body (what follows its `\connect`) is handed over as bytes for `PsqlRestorer`. One pass, bounded memory:
/// the globals are kept up to `maxGlobals` bytes, a line's first `maxLineHead` bytes are looked at, and the rest of
/// a long line (a `COPY` row, a function body) passes through without being held.
///
/// What never reaches a body: a section's preamble (`CREATE DATABASE`, `ALTER DATABASE … OWNER`, `\connect`; drill
/// creates the database itself), and `ALTER DATABASE …` and `\connect …` lines inside a body. Lines inside
/// `COPY … FROM stdin;` data are passed as they are and never taken for a section header or a command.
/// Nothing after pg_dumpall's "cluster dump complete" line is looked at.
public struct ClusterDumpSplitter: Sendable {
    public enum Event: Sendable, Equatable {
        /// The globals part: everything before `-- Databases` (or before the end of a globals-only dump), as text.
        case globals(String)
        /// A database's section begins (at its `\connect`): `body` events follow until `databaseEnd`.
        case database(name: String, encoding: String?)
        /// Bytes of the current database's `pg_dump` body, in order.
        case body(Data)
        /// The current database's body ended (the next section's header, or the end of the dump).
        case databaseEnd
        /// pg_dumpall's "cluster dump complete" line: nothing after it is read.
        case complete
    }

    /// The most globals text kept (a real cluster's roles take kilobytes).
    public static let maxGlobals = 16 << 20
    /// The most of a line looked at to classify it.
    public static let maxLineHead = 4096

    /// Lines left out of a body (`ALTER DATABASE …`, `\connect …`).
    public private(set) var droppedLines = 0
    /// Whether globals beyond `maxGlobals`, or a longer line among them, were left out.
    public private(set) var globalsTruncated = false
    /// Whether the "cluster dump complete" line was seen.
    public private(set) var isComplete = false

    private enum Phase: Sendable {
        case globals
        /// After `-- Databases`, between sections, or in a section's preamble (`name` once its header was seen).
        case preamble(name: String?, encoding: String?)
        case body
        case done
    }

    private enum LineState { case collecting, passing, dropping }

    private var phase = Phase.globals
    private var state = LineState.collecting
    /// The current line's first bytes, while its kind is not decided.
    private var head = Data()
    private var globals = Data()
    private var inCopy = false
    /// The current (long, passing) line began with `COPY `: its end decides whether COPY data follow.
    private var copyCandidate = false
    /// The last bytes of the current long line.
    private var tail: [UInt8] = []

    public init() {}

    static let databasesMarker = "-- Databases"
    static let completeMarker = "-- PostgreSQL database cluster dump complete"

    /// Feeds the next chunk of the dump; returns the events it completes, in order.
    public mutating func feed(_ chunk: Data) -> [Event] {
        var out = Output()
        chunk.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            guard let base = raw.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return }
            let n = raw.count
            var i = 0
            while i < n {
                if case .done = phase { return }
                let nl = memchr(base + i, 0x0A, n - i).map { base.distance(to: $0.assumingMemoryBound(to: UInt8.self)) }
                let end = nl ?? n  // the line's bytes in this chunk: i..<end
                let piece = UnsafeBufferPointer(start: base + i, count: end - i)
                switch state {
                case .collecting:
                    let room = Self.maxLineHead - head.count
                    if piece.count <= room {
                        head.append(piece.baseAddress!, count: piece.count)
                        if nl != nil { line(complete: true, &out) }
                    } else {
                        // A long line: decided on its first bytes; the rest streams through (or is skipped).
                        head.append(piece.baseAddress!, count: room)
                        line(complete: false, &out)
                        let rest = UnsafeBufferPointer(rebasing: piece[room...])
                        if state == .passing { pass(rest, newline: nl != nil, &out) }
                        if nl != nil { endLongLine() }
                    }
                case .passing:
                    pass(piece, newline: nl != nil, &out)
                    if nl != nil { endLongLine() }
                case .dropping:
                    if nl != nil { state = .collecting }
                }
                i = end + 1
            }
        }
        return out.finish()
    }

    /// The end of the input: the last line (without a newline), and the end of a body still open.
    public mutating func finish() -> [Event] {
        var out = Output()
        if state == .collecting, !head.isEmpty { line(complete: true, &out, newline: false) }
        if case .body = phase { out.events.append(.databaseEnd) }
        if case .globals = phase { globals = Data() }
        phase = .done
        return out.finish()
    }

    /// Events in order, consecutive body bytes coalesced.
    private struct Output {
        var events: [Event] = []
        var body = Data()
        mutating func emit(_ e: Event) {
            flush()
            events.append(e)
        }
        mutating func flush() {
            if !body.isEmpty { events.append(.body(body)); body = Data() }
        }
        mutating func finish() -> [Event] {
            flush()
            return events
        }
    }

    private mutating func pass(_ bytes: UnsafeBufferPointer<UInt8>, newline: Bool, _ out: inout Output) {
        if let start = bytes.baseAddress, !bytes.isEmpty { out.body.append(start, count: bytes.count) }
        if newline { out.body.append(0x0A) }
        if copyCandidate { tail = Array((tail + bytes.suffix(16)).suffix(16)) }
    }

    private mutating func endLongLine() {
        if copyCandidate, Self.endsCopyStatement(tail) { inCopy = true }
        copyCandidate = false
        tail = []
        state = .collecting
    }

    /// Classifies the line in `head`: the whole line when `complete`, else its first `maxLineHead` bytes.
    private mutating func line(complete: Bool, _ out: inout Output, newline: Bool = true) {
        let bytes = head
        head = Data()
        state = complete ? .collecting : .dropping
        switch phase {
        case .done:
            return
        case .globals:
            let text = Self.text(bytes)
            if complete, text == Self.databasesMarker {
                out.emit(.globals(String(decoding: globals, as: UTF8.self)))
                globals = Data()
                phase = .preamble(name: nil, encoding: nil)
            } else if complete, text.hasPrefix(Self.completeMarker) {
                out.emit(.globals(String(decoding: globals, as: UTF8.self)))
                finishDump(&out)
            } else if complete, globals.count + bytes.count < Self.maxGlobals {
                globals.append(bytes)
                globals.append(0x0A)
            } else {
                globalsTruncated = true
            }
        case .preamble(let name, let encoding):
            guard complete else { return }
            let text = Self.text(bytes)
            if let db = ClusterDump.sectionDatabase(text) {
                phase = .preamble(name: db, encoding: nil)
            } else if text.hasPrefix(Self.completeMarker) {
                finishDump(&out)
            } else if let name, text.hasPrefix("CREATE DATABASE ") {
                phase = .preamble(name: name, encoding: ClusterDump.encoding(ofCreateDatabase: text) ?? encoding)
            } else if let name, text.hasPrefix("\\connect ") {
                out.emit(.database(name: name, encoding: encoding))
                phase = .body
                inCopy = false
            }
        case .body:
            bodyLine(bytes, complete: complete, newline: newline, &out)
        }
    }

    private mutating func bodyLine(_ bytes: Data, complete: Bool, newline: Bool, _ out: inout Output) {
        func keep() {
            out.body.append(bytes)
            if complete && newline { out.body.append(0x0A) }
            if !complete { state = .passing }
        }
        if inCopy {
            if complete, bytes.count <= 3, Self.text(bytes) == "\\." { inCopy = false }
            return keep()
        }
        switch bytes.first ?? 0 {
        case UInt8(ascii: "-"):
            guard complete else { return keep() }
            let text = Self.text(bytes)
            if let db = ClusterDump.sectionDatabase(text) {
                out.emit(.databaseEnd)
                phase = .preamble(name: db, encoding: nil)
            } else if text.hasPrefix(Self.completeMarker) {
                out.emit(.databaseEnd)
                finishDump(&out)
            } else {
                keep()
            }
        case UInt8(ascii: "A"), UInt8(ascii: "\\"):
            if bytes.starts(with: Array("ALTER DATABASE ".utf8)) || bytes.starts(with: Array("\\connect ".utf8)) {
                droppedLines += 1  // a long one is skipped up to its end (`state` is already `.dropping`)
                return
            }
            keep()
        case UInt8(ascii: "C"):
            if bytes.starts(with: Array("COPY ".utf8)) {
                if complete {
                    if Self.endsCopyStatement(Array(bytes.suffix(16))) { inCopy = true }
                } else {
                    copyCandidate = true
                    tail = Array(bytes.suffix(16))
                }
            }
            keep()
        default:
            keep()
        }
    }

    /// A line as text for matching, without a carriage return at its end.
    static func text(_ bytes: Data) -> Substring {
        let s = Substring(String(decoding: bytes, as: UTF8.self))
        return s.last == "\r" ? s.dropLast() : s
    }

    /// Whether a line ending with `tail` ends a `COPY … FROM stdin;` statement (its data follow).
    static func endsCopyStatement(_ tail: [UInt8]) -> Bool {
        var t = tail[...]
        if t.last == 0x0D { t = t.dropLast() }
        return t.count >= 12 && t.suffix(12).elementsEqual(" FROM stdin;".utf8)
    }

    private mutating func finishDump(_ out: inout Output) {
        isComplete = true
        phase = .done
        out.emit(.complete)
    }
}
