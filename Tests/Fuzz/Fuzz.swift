import Foundation
import MTCore
import MTStorage

// Fuzz targets for the readers of untrusted files: the MNIST idx, CIFAR, PNG and JPEG importers and every HDF5
// artifact reader. One entry point, `LLVMFuzzerTestOneInput`; the target is chosen by MT_FUZZ_TARGET
// (idx, cifar, png, jpeg, artifact). Built by Tests/Fuzz/run.sh with -sanitize=fuzzer,address (-D FUZZING), it
// is a libFuzzer binary; built plainly (as `make build` does), it is the regression runner: every file
// named on the command line goes through its target once (`mt-fuzz TARGET FILE...`), which is how the
// saved crashes in Tests/Fuzz/regressions/ are replayed by the test suite.
//
// A reader may refuse an input (throw); it must not crash, hang or allocate what the input merely declares.

/// The scratch directory of this process, where each input is written as the file the reader opens.
private let scratch: String = {
    let path = NSTemporaryDirectory() + "mt-fuzz-\(getpid())"
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}()

private func write(_ bytes: UnsafeRawBufferPointer, to path: String) {
    _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
}

/// Runs one input through `target`; errors are the expected outcome for most inputs.
func fuzzOne(_ target: String, _ bytes: UnsafeRawBufferPointer) {
    // Readers compare what a file declares with this budget before allocating (as --memory does).
    ReadBudget.$current.withValue(ReadBudget(bytes: 64 << 20, flag: "--memory")) {
        switch target {
        case "idx":
            // The first two bytes split the input into the images file and the labels file.
            let cut = bytes.count < 2 ? 0 : min(bytes.count - 2, Int(bytes[0]) << 8 | Int(bytes[1]))
            let rest = bytes.count < 2 ? UnsafeRawBufferPointer(rebasing: bytes[0...]) : UnsafeRawBufferPointer(rebasing: bytes[2...])
            write(UnsafeRawBufferPointer(rebasing: rest[..<cut]), to: scratch + "/images-idx3-ubyte")
            write(UnsafeRawBufferPointer(rebasing: rest[cut...]), to: scratch + "/labels-idx1-ubyte")
            _ = try? MNISTImporter.load(images: scratch + "/images-idx3-ubyte", labels: scratch + "/labels-idx1-ubyte", name: "fuzz")
        case "cifar":
            write(bytes, to: scratch + "/data_batch_1.bin")
            _ = try? CIFARImporter.load(.cifar10, files: [scratch + "/data_batch_1.bin"], name: "fuzz")
            _ = try? CIFARImporter.load(.cifar100, files: [scratch + "/data_batch_1.bin"], name: "fuzz")
        case "png":
            let folder = scratch + "/png/digit"
            try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            write(bytes, to: folder + "/a.png")
            _ = try? PixelImage.readPNG(folder + "/a.png")
            _ = try? ImageFolderImporter(directory: scratch + "/png", name: "fuzz").load()
        case "jpeg":
            let folder = scratch + "/jpeg/digit"
            try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            write(bytes, to: folder + "/a.jpg")
            _ = try? ImageFileHeader.read(folder + "/a.jpg")
            _ = try? ImageFolderImporter(directory: scratch + "/jpeg", name: "fuzz").load()
        case "artifact":
            let path = scratch + "/artifact.h5"
            write(bytes, to: path)
            _ = try? ImageDataset.read(path)
            _ = try? Features.read(path)
            _ = try? KNNGraph.read(path)
            _ = try? Split.read(path, sampleCount: nil)
            _ = try? Selection.read(path)
            _ = try? PseudoLabels.read(path)
            _ = try? GraphEigenpairs.read(path)
            _ = try? CheckpointRecord.read(path)
            _ = try? PCAProjection.read(path)
            _ = try? TruthLabels.read(path)
            _ = try? MetricsFile.read(path)
        default:
            fatalError("MT_FUZZ_TARGET: expected idx, cifar, png or artifact, found '\(target)'")
        }
    }
}

#if FUZZING
nonisolated(unsafe) private let fuzzTarget = ProcessInfo.processInfo.environment["MT_FUZZ_TARGET"] ?? "artifact"

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    fuzzOne(fuzzTarget, UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                     _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

/// SwiftPM links an executable's entry point as `<module>_main`; here it hands over to libFuzzer's driver.
@_cdecl("mt_fuzz_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc, vector = argv
    return runFuzzerDriver(&count, &vector) { data, size in fuzzerTestOneInput(data, size) }
}
#else
@main struct RegressionRunner {
    static func main() {
        let arguments = CommandLine.arguments.dropFirst()
        guard let target = arguments.first else {
            FileHandle.standardError.write(Data("usage: mt-fuzz idx|cifar|png|artifact FILE...\n".utf8))
            exit(2)
        }
        for file in arguments.dropFirst() {
            guard let data = FileManager.default.contents(atPath: file) else {
                FileHandle.standardError.write(Data("mt-fuzz: \(file): cannot read\n".utf8))
                exit(2)
            }
            data.withUnsafeBytes { fuzzOne(target, $0) }
        }
        try? FileManager.default.removeItem(atPath: scratch)
    }
}
#endif
