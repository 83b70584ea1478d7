/// Shell-style globs on a file name: `*`, `?` and `[abc]` / `[a-z]` / `[!abc]` classes.
public struct Glob: Sendable, Equatable {
    public let pattern: String
    private let chars: [Character]

    public init(_ pattern: String) {
        self.pattern = pattern
        self.chars = Array(pattern)
    }

    public func matches(_ name: String) -> Bool { match(Array(name)[...], chars[...]) }

    private func match(_ s: ArraySlice<Character>, _ p: ArraySlice<Character>) -> Bool {
        var s = s, p = p
        while let pc = p.first {
            switch pc {
            case "*":
                p = p.dropFirst()
                if p.isEmpty { return true }
                var rest = s
                while true {
                    if match(rest, p) { return true }
                    if rest.isEmpty { return false }
                    rest = rest.dropFirst()
                }
            case "?":
                guard !s.isEmpty else { return false }
                s = s.dropFirst()
                p = p.dropFirst()
            case "[":
                guard let c = s.first, let (ok, after) = matchClass(c, p.dropFirst()) else {
                    if s.first == "[" { s = s.dropFirst(); p = p.dropFirst(); continue }
                    return false
                }
                guard ok else { return false }
                s = s.dropFirst()
                p = after
            default:
                guard s.first == pc else { return false }
                s = s.dropFirst()
                p = p.dropFirst()
            }
        }
        return s.isEmpty
    }

    /// Matches `c` against a class body starting after `[`; returns the result and the pattern after `]`.
    private func matchClass(_ c: Character, _ body: ArraySlice<Character>) -> (Bool, ArraySlice<Character>)? {
        var b = body
        var negate = false
        if let f = b.first, f == "!" || f == "^" { negate = true; b = b.dropFirst() }
        var found = false
        var first = true
        while let x = b.first {
            if x == "]" && !first { return (found != negate, b.dropFirst()) }
            first = false
            b = b.dropFirst()
            if b.first == "-", let hi = b.dropFirst().first, hi != "]" {
                if x <= c && c <= hi { found = true }
                b = b.dropFirst(2)
            } else if x == c {
                found = true
            }
        }
        return nil
    }
}
