import Foundation

/// Accounts of the user database, looked up with the re-entrant `getpwnam_r`/`getpwuid_r`: `getpwnam` returns a
/// static buffer that another thread's lookup overwrites, and drills (and tests) lease accounts concurrently.
public enum UserDatabase {
    public struct Account: Sendable, Equatable {
        public var name: String
        public var uid: uid_t
        public var gid: gid_t
        /// The GECOS comment.
        public var comment: String
    }

    public static func account(named name: String) -> Account? {
        lookup { pw, buf, size, result in getpwnam_r(name, pw, buf, size, result) }
    }

    public static func account(uid: uid_t) -> Account? {
        lookup { pw, buf, size, result in getpwuid_r(uid, pw, buf, size, result) }
    }

    private static func lookup(_ call: (UnsafeMutablePointer<passwd>, UnsafeMutablePointer<CChar>, Int,
                                        UnsafeMutablePointer<UnsafeMutablePointer<passwd>?>) -> Int32) -> Account? {
        var size = 4096
        while size <= 1 << 20 {
            var pw = passwd()
            var result: UnsafeMutablePointer<passwd>?
            var buffer = [CChar](repeating: 0, count: size)
            let rc = buffer.withUnsafeMutableBufferPointer { call(&pw, $0.baseAddress!, size, &result) }
            if rc == ERANGE {
                size *= 4
                continue
            }
            guard rc == 0, result != nil else { return nil }
            return Account(name: pw.pw_name.map { String(cString: $0) } ?? "", uid: pw.pw_uid, gid: pw.pw_gid,
                           comment: pw.pw_gecos.map { String(cString: $0) } ?? "")
        }
        return nil
    }
}
