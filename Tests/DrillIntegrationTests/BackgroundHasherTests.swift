import DrillLive
import Foundation
import Testing

@Suite("SHA-256 on a background thread")
struct BackgroundHasherTests {
    /// Deterministic pseudo-random bytes.
    func bytes(_ count: Int, seed: UInt64) -> [UInt8] {
        var x = seed
        return (0..<count).map { _ in
            x = x &* 6364136223846793005 &+ 1442695040888963407
            return UInt8(truncatingIfNeeded: x >> 33)
        }
    }

    @Test("chunks of every size, through a queue small enough to make the producer wait, give the one-shot digest",
          arguments: [1, 7, 4096, 65_536, 300_001])
    func sameDigest(chunk: Int) {
        let data = bytes(1_000_003, seed: UInt64(chunk))
        let background = BackgroundHasher(maxQueuedBytes: 100_000)
        data.withUnsafeBytes { all in
            var offset = 0
            while offset < all.count {
                let n = min(chunk, all.count - offset)
                background.update(UnsafeRawBufferPointer(rebasing: all[offset..<offset + n]))
                offset += n
            }
        }
        #expect(background.finalizeHex() == SHA256Hasher.hex(of: Data(data)))
    }

    @Test("the empty input has SHA-256's empty digest")
    func empty() {
        #expect(BackgroundHasher().finalizeHex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    @Test("cancelling a full queue releases a waiting producer")
    func cancelReleases() async {
        let h = BackgroundHasher(maxQueuedBytes: 1)
        let data = bytes(1 << 20, seed: 1)
        let producer = Task.detached {
            for _ in 0..<200 { data.withUnsafeBytes { h.update($0) } }
        }
        try? await Task.sleep(for: .milliseconds(20))
        h.cancel()
        await producer.value  // returns: updates after cancel are dropped, not queued or waited on
    }
}
