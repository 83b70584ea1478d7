import DrillCore
import Foundation

/// The registry from URL scheme to backup store. A new store is one file plus one entry here.
public struct StoreRegistry: BackupStoreFactory {
    public typealias Maker = @Sendable (_ location: String, _ endpoint: String?, _ region: String?) throws -> any BackupStore

    public var makers: [String: Maker]

    public init(makers: [String: Maker]) { self.makers = makers }

    /// The stores this build ships.
    public static func live() -> StoreRegistry {
        StoreRegistry(makers: [
            "file": { location, _, _ in LocalStore(location: location) },
            "s3": { location, endpoint, region in try S3Store(location: location, endpoint: endpoint, region: region) },
            "http": { location, _, _ in try HTTPStore(location: location) },
            "https": { location, _, _ in try HTTPStore(location: location) },
        ])
    }

    public func store(location: String, endpoint: String?, region: String?) throws -> any BackupStore {
        let scheme = URLScheme.of(location) ?? "file"
        guard let make = makers[scheme] else {
            throw DrillError(.configuration, "no backup store for \(scheme):// locations in this build")
        }
        return try make(location, endpoint, region)
    }
}
