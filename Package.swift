// swift-tools-version:6.2
import PackageDescription

let package = Package(
    name: "drill",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "drill", targets: ["drill"]),
        .library(name: "DrillCore", targets: ["DrillCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        // C libraries, imported only by DrillLive.
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CSystem"),

        // The domain: config, planning, the drill state machine, measurement, checks, reports, archive logic. No I/O
        // beyond reading the config folder.
        .target(name: "DrillCore", dependencies: [.product(name: "Logging", package: "swift-log")]),

        // Adapters to the outside world: libpq, libcurl, subprocesses, the scratch cluster, stores, the archive on disk.
        .target(
            name: "DrillLive",
            dependencies: [
                "DrillCore", "CLibPQ", "CCurl", "COpenSSL", "CSystem",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // The executable: argument parsing, wiring, printing, exit codes.
        .executableTarget(
            name: "drill",
            dependencies: [
                "DrillCore", "DrillLive",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // bench/fetch.sh's driver: fetch one object through drill's stores and print throughput (not shipped in `drill`).
        .executableTarget(name: "drill-bench", dependencies: ["DrillCore", "DrillLive"]),

        // Helpers shared by tests: a real source PostgreSQL cluster, pg_dump fixtures, running the drill binary.
        .target(name: "DrillTesting", dependencies: ["DrillCore", "DrillLive"]),

        .testTarget(name: "DrillCoreTests", dependencies: ["DrillCore", "DrillTesting"], exclude: ["Golden"]),
        .testTarget(name: "DrillIntegrationTests", dependencies: ["DrillCore", "DrillLive", "DrillTesting"]),
    ]
)
