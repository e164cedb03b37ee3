// swift-tools-version:6.0
import PackageDescription

// System libraries come from Debian packages (see `make setup`): libhdf5-dev, libopenblas-dev,
// liblapacke-dev, libpng-dev, libturbojpeg0-dev, zlib1g-dev, libfaiss-dev.
//
// The library is cut into layers with one direction of dependency (docs/ARCHITECTURE.md):
//
//   MTCore        numerics and the artifact values: no files, no printing
//   MTStorage     HDF5, artifact kinds, atomic outputs, importers            (uses MTCore)
//   MTAlgorithms  propagation, selection, evaluation metrics, plots          (uses MTCore)
//   MTNetwork     layers, models, losses, optimiser, the training loop      (uses MTCore, MTAlgorithms)
//   MTCommand     arguments, use cases (read, compute, write), console       (uses all of the above)
//   mt-*          one `main.swift` each                                      (uses MTCommand)
//
// `make build` passes `--explicit-target-dependency-import-check error`, so importing a target that is
// not listed below fails the build; `Tests/UnitTests/LayeringTests.swift` checks the same from the sources.

let tools = ["mt-features", "mt-knn", "mt-ncut", "mt-select", "mt-train", "mt-eval"]

let package = Package(
    name: "mt",
    platforms: [.macOS(.v13)],
    products: tools.map { .executable(name: $0, targets: [$0]) },
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(name: "CHDF5", pkgConfig: "hdf5", providers: [.apt(["libhdf5-dev"])]),
        .systemLibrary(name: "CBLAS", providers: [.apt(["libopenblas-dev", "liblapacke-dev"])]),
        .systemLibrary(name: "CZlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CMalloc"),
        .target(name: "CPNG", linkerSettings: [.linkedLibrary("png16")]),
        .target(name: "CJPEG", linkerSettings: [.linkedLibrary("turbojpeg")]),
        // faiss (libfaiss-dev: a static C++ library built with OpenMP over OpenBLAS) behind a C interface.
        .target(name: "CFaiss",
                linkerSettings: [.linkedLibrary("faiss"), .linkedLibrary("openblas"), .linkedLibrary("gomp"),
                                 .linkedLibrary("stdc++")]),

        .target(name: "MTCore", dependencies: ["CBLAS"]),
        .target(name: "MTStorage", dependencies: ["MTCore", "CHDF5", "CZlib", "CPNG", "CJPEG"]),
        .target(name: "MTAlgorithms", dependencies: ["MTCore", "CFaiss"]),
        .target(name: "MTNetwork", dependencies: ["MTCore", "MTAlgorithms"]),
        .target(
            name: "MTCommand",
            dependencies: ["MTCore", "MTStorage", "MTAlgorithms", "MTNetwork", "CBLAS", "CMalloc",
                           .product(name: "ArgumentParser", package: "swift-argument-parser")]),

        .target(name: "TestSupport", dependencies: ["MTCore", "MTStorage"], path: "Tests/TestSupport"),
        .testTarget(name: "UnitTests",
                    dependencies: ["MTCore", "MTStorage", "MTAlgorithms", "MTNetwork", "MTCommand", "TestSupport", "CZlib", "CBLAS"]),
        .testTarget(name: "EndToEndTests", dependencies: ["MTCore", "MTStorage", "TestSupport"]),
        // The fuzz targets of the readers (Tests/Fuzz/run.sh builds them with libFuzzer); built plainly,
        // the runner that replays saved crashes (Tests/Fuzz/regressions).
        .executableTarget(name: "mt-fuzz", dependencies: ["MTCore", "MTStorage"], path: "Tests/Fuzz", exclude: ["run.sh", "regressions", "libhdf5"]),
    ] + tools.map { .executableTarget(name: $0, dependencies: ["MTCommand"]) },
    swiftLanguageModes: [.v6]
)
