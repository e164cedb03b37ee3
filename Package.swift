// swift-tools-version:6.0
import PackageDescription

// System libraries come from Debian packages (see `make setup`): libhdf5-dev, libopenblas-dev,
// liblapacke-dev, libpng-dev, zlib1g-dev.
let release: [SwiftSetting] = [.unsafeFlags(["-Ounchecked", "-wmo"], .when(configuration: .release))]

let tools = ["mt-features", "mt-knn", "mt-ncut", "mt-select", "mt-train", "mt-eval"]

let package = Package(
    name: "mt",
    platforms: [.macOS(.v13)],
    products: tools.map { .executable(name: $0, targets: [$0]) } + [.library(name: "Shared", targets: ["Shared"])],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(name: "CHDF5", pkgConfig: "hdf5", providers: [.apt(["libhdf5-dev"])]),
        .systemLibrary(name: "CBLAS", providers: [.apt(["libopenblas-dev", "liblapacke-dev"])]),
        .systemLibrary(name: "CZlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CMalloc"),
        .target(name: "CPNG", linkerSettings: [.linkedLibrary("png16")]),
        .target(
            name: "Shared",
            dependencies: ["CHDF5", "CBLAS", "CZlib", "CPNG", "CMalloc",
                           .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: release),
        .target(name: "TestSupport", dependencies: ["Shared"], path: "Tests/TestSupport"),
        .testTarget(name: "SharedTests", dependencies: ["Shared", "TestSupport", "CZlib"]),
        .testTarget(name: "EndToEndTests", dependencies: ["Shared", "TestSupport"]),
    ] + tools.map {
        .executableTarget(
            name: $0,
            dependencies: ["Shared", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: release)
    },
    swiftLanguageModes: [.v5]
)
