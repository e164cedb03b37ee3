import Foundation
import MTCore

/// Imports a folder of PNG and JPEG images of any size into a dataset file, streaming: images are decoded,
/// oriented, converted and resized a block at a time on every core, then the block is appended to the file
/// (HDF5 on the calling thread only), so memory is one block of output rows plus one decoded image per thread.
///
/// Order is the sorted relative paths (class folders in name order), whatever the thread count; each image's
/// path is kept in `/paths`. Pixels are converted to the data set's channels first (alpha dropped, RGB to gray
/// by BT.601 luma), then resized with Pillow's antialiased bilinear filter (`ImageResampling`).
public struct ImageFolderImporter: Sendable {
    /// Where labels come from.
    public enum Labels: Sendable, Equatable {
        /// One subfolder per class (name order); files anywhere below it.
        case folders
        /// No labels (-1): every image below the folder.
        case none
        /// A CSV of `path,label` rows (paths relative to the folder; labels class names or numbers; empty = -1).
        case csv(String)
    }

    /// The output size.
    public enum Resize: Sendable, Equatable {
        /// Keep the images' size: every image must have the same one.
        case none
        /// torchvision's `Resize(side)` + `CenterCrop(side)`: shorter side to `side`, then the centre square.
        case shorterSideCrop(Int)
        /// Both sides to `side`, ignoring the aspect ratio.
        case squash(Int)

        public var description: String {
            switch self {
            case .none: "none"
            case .shorterSideCrop(let side): "shorter-side \(side), centre crop"
            case .squash(let side): "squash \(side)x\(side)"
            }
        }
    }

    public enum Channels: Sendable, Equatable {
        /// Gray when every image is gray, RGB otherwise.
        case automatic, gray, rgb
    }

    public var directory: String
    public var labels: Labels = .folders
    public var resize: Resize = .none
    public var channels: Channels = .automatic
    /// Turn images upright by their EXIF orientation (as a photo viewer shows them); false keeps the stored
    /// pixels, as `PIL.Image.open` without `exif_transpose` does.
    public var appliesOrientation = true
    /// Skip files that cannot be read (listed in the result and the file) instead of stopping at the first.
    public var skipsBadFiles = false
    public var limit: Int?
    public var name: String

    public init(directory: String, name: String) {
        self.directory = directory
        self.name = name
    }

    /// One image to import.
    public struct Entry: Sendable, Equatable {
        /// Relative to the imported folder.
        public var path: String
        public var label: Int32
    }

    /// A file left out, and why.
    public struct Skipped: Sendable, Equatable {
        public var path: String
        public var reason: String
    }

    /// What the headers said: the images to decode and the data set's shape.
    public struct Plan: Sendable {
        public var entries: [Entry]
        public var headers: [ImageFileHeader]
        public var classNames: [String]
        public var height: Int
        public var width: Int
        public var channels: Int
        /// Files whose header could not be read (with `skipsBadFiles`).
        public var skipped: [Skipped]
        public var diagnostics: Diagnostics
    }

    // MARK: Planning

    /// Lists the files, reads every header (in parallel) and fixes the output shape.
    public func plan() throws -> Plan {
        guard directoryExists(directory) else { throw MTError.badInput(directory, nil, "not a directory") }
        var diagnostics = Diagnostics()
        var (entries, classNames) = try listEntries(&diagnostics)
        if let limit { entries = Array(entries.prefix(limit)) }
        guard !entries.isEmpty else { throw MTError.badInput(directory, nil, "no .png, .jpg or .jpeg images found") }

        var results = [Result<ImageFileHeader, MTError>](repeating: .failure(.failure("")), count: entries.count)
        results.withUnsafeMutableBufferPointer { results in
            let shared = UncheckedSendable(results)
            Parallel.forEach(entries.count, minimumChunk: 64) { index in
                let path = directory + "/" + entries[index].path
                do { shared.value[index] = .success(try ImageFileHeader.read(path)) } catch let error as MTError {
                    shared.value[index] = .failure(error)
                } catch { shared.value[index] = .failure(.badInput(path, nil, "\(error)")) }
            }
        }
        var kept: [Entry] = [], headers: [ImageFileHeader] = [], skipped: [Skipped] = []
        for (entry, result) in zip(entries, results) {
            switch result {
            case .success(let header):
                kept.append(entry)
                headers.append(header)
            case .failure(let error):
                guard skipsBadFiles else { throw error }
                skipped.append(Skipped(path: entry.path, reason: Self.reason(error, path: directory + "/" + entry.path)))
            }
        }
        guard !kept.isEmpty else { throw MTError.badInput(directory, nil, "no image could be read (\(skipped.count) skipped)") }

        let channelCount: Int
        switch channels {
        case .gray: channelCount = 1
        case .rgb: channelCount = 3
        case .automatic: channelCount = headers.contains(where: \.isColour) ? 3 : 1
        }
        let (width, height): (Int, Int)
        switch resize {
        case .shorterSideCrop(let side), .squash(let side):
            (width, height) = (side, side)
        case .none:
            let size = { (header: ImageFileHeader) -> (width: Int, height: Int) in appliesOrientation ? header.uprightSize : (header.width, header.height) }
            let first = size(headers[0])
            if let odd = zip(kept, headers).first(where: { size($0.1) != first }) {
                let size = size(odd.1)
                throw MTError.badInput(directory + "/" + odd.0.path, nil,
                                       "expected \(first.width)x\(first.height) like \(kept[0].path), found \(size.width)x\(size.height) (give --size to resize)")
            }
            (width, height) = first
        }
        return Plan(entries: kept, headers: headers, classNames: classNames, height: height, width: width,
                    channels: channelCount, skipped: skipped, diagnostics: diagnostics)
    }

    /// The message of an error without the path it starts with (the skipped list names the path itself).
    static func reason(_ error: MTError, path: String) -> String {
        let message = error.message
        return message.hasPrefix(path + ": ") ? String(message.dropFirst(path.count + 2)) : message
    }

    private func listEntries(_ diagnostics: inout Diagnostics) throws -> ([Entry], [String]) {
        switch labels {
        case .none:
            return (try imageFiles(below: "").map { Entry(path: $0, label: -1) }, [])
        case .folders:
            let top = try contents(of: directory)
            let classNames = top.filter { directoryExists(directory + "/" + $0) }
            guard !classNames.isEmpty else {
                throw MTError.badInput(directory, nil, "expected one subfolder per class (or --labels none, or --labels FILE.csv)")
            }
            let loose = top.filter { isImageName($0) }.count
            if loose > 0 { diagnostics.warn("\(directory): \(loose) images outside the class folders were not imported") }
            var entries: [Entry] = []
            for (label, className) in classNames.enumerated() {
                for file in try imageFiles(below: className) { entries.append(Entry(path: file, label: Int32(label))) }
            }
            return (entries, classNames)
        case .csv(let path):
            return try readLabelsCSV(path)
        }
    }

    /// Image files below `folder` (relative to the imported directory), recursively, sorted; hidden ones skipped.
    private func imageFiles(below folder: String) throws -> [String] {
        let root = folder.isEmpty ? directory : directory + "/" + folder
        guard let walker = FileManager.default.enumerator(atPath: root) else { throw MTError.badInput(root, nil, "cannot list directory") }
        var files: [String] = []
        while let relative = walker.nextObject() as? String {
            let name = (relative as NSString).lastPathComponent
            if name.hasPrefix(".") {
                if directoryExists(root + "/" + relative) { walker.skipDescendants() }
                continue
            }
            if isImageName(name), !directoryExists(root + "/" + relative) {
                files.append(folder.isEmpty ? relative : folder + "/" + relative)
            }
        }
        return files.sorted()
    }

    private func isImageName(_ name: String) -> Bool {
        ImageFileFormat.extensions.contains((name as NSString).pathExtension.lowercased())
    }

    private func contents(of directory: String) throws -> [String] {
        do {
            return try FileManager.default.contentsOfDirectory(atPath: directory).filter { !$0.hasPrefix(".") }.sorted()
        } catch {
            throw MTError.badInput(directory, nil, "cannot list directory")
        }
    }

    /// `path,label` rows. Labels that are all integers are class numbers; otherwise class names, sorted and
    /// numbered. An empty label is unknown (-1). A first row whose path is not an image name is a header.
    private func readLabelsCSV(_ csv: String) throws -> ([Entry], [String]) {
        let table = try CSVTable.read(csv, isData: { $0.first.map(isImageName) ?? false })
        for (number, row) in table.rows.enumerated() where row.count < 2 {
            throw MTError.badInput(csv, nil, "row \(number + 1): expected path,label, found \(row.count) field")
        }
        let known = table.rows.map { $0[1].trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let numeric = known.allSatisfy { Int32($0) != nil }
        let names = known.isEmpty ? [] : numeric ? (0...Int(known.compactMap { Int32($0) }.max()!)).map(String.init) : Array(Set(known)).sorted()
        let index = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, Int32($0)) })
        var seen = Set<String>()
        let entries = try table.rows.map { row -> Entry in
            let path = row[0], label = row[1].trimmingCharacters(in: .whitespaces)
            guard seen.insert(path).inserted else { throw MTError.badInput(csv, nil, "\(path) is listed twice") }
            let value: Int32 = label.isEmpty ? -1 : (numeric ? Int32(label)! : index[label]!)
            guard value >= -1 else { throw MTError.badInput(csv, nil, "\(path): expected a label >= 0, found \(label)") }
            return Entry(path: path, label: value)
        }
        return (entries, names)
    }

    // MARK: Decoding

    /// Decoded rows of `plan.entries[range]`: the pixels of the images that decoded, in order, their
    /// positions in the plan, and the files that failed (thrown instead unless `skipsBadFiles`).
    public struct Block {
        public var pixels: [UInt8]
        public var kept: [Int]
        public var skipped: [Skipped]
    }

    public func decode(_ plan: Plan, rows range: Range<Int>) throws -> Block {
        let rowSize = plan.height * plan.width * plan.channels
        var pixels = [UInt8](repeating: 0, count: range.count * rowSize)
        var failures = [MTError?](repeating: nil, count: range.count)
        pixels.withUnsafeMutableBufferPointer { pixels in
            failures.withUnsafeMutableBufferPointer { failures in
                let shared = UncheckedSendable((pixels, failures))
                Parallel.forEachTask(range.count) { offset in
                    let index = range.lowerBound + offset
                    do {
                        let row = try decodeOne(plan, index)
                        let target = shared.value.0.baseAddress! + offset * rowSize
                        row.withUnsafeBufferPointer { target.update(from: $0.baseAddress!, count: rowSize) }
                    } catch let error as MTError {
                        shared.value.1[offset] = error
                    } catch {
                        shared.value.1[offset] = .badInput(directory + "/" + plan.entries[index].path, nil, "\(error)")
                    }
                }
            }
        }
        var kept: [Int] = [], skipped: [Skipped] = []
        var compacted = 0
        for offset in 0..<range.count {
            let index = range.lowerBound + offset
            if let error = failures[offset] {
                guard skipsBadFiles else { throw error }
                skipped.append(Skipped(path: plan.entries[index].path, reason: Self.reason(error, path: directory + "/" + plan.entries[index].path)))
                continue
            }
            if compacted != offset {
                pixels.withUnsafeMutableBufferPointer { buffer in
                    (buffer.baseAddress! + compacted * rowSize).update(from: buffer.baseAddress! + offset * rowSize, count: rowSize)
                }
            }
            kept.append(index)
            compacted += 1
        }
        pixels.removeLast((range.count - compacted) * rowSize)
        return Block(pixels: pixels, kept: kept, skipped: skipped)
    }

    /// One image, decoded, upright, in the data set's channels and size.
    func decodeOne(_ plan: Plan, _ index: Int) throws -> [UInt8] {
        let path = directory + "/" + plan.entries[index].path
        let header = plan.headers[index]
        let image = try PixelImage.read(path)
        guard image.width == header.width, image.height == header.height else {
            throw MTError.badInput(path, nil, "decoded \(image.width)x\(image.height), header said \(header.width)x\(header.height)")
        }
        var pixels = image.converted(toChannels: plan.channels)
        var (width, height) = (image.width, image.height)
        if appliesOrientation, header.orientation != 1 {
            (pixels, width, height) = ImageResampling.orient(pixels, width: width, height: height, channels: plan.channels,
                                                             orientation: header.orientation)
        }
        switch resize {
        case .none:
            guard width == plan.width, height == plan.height else {
                throw MTError.badInput(path, nil, "expected \(plan.width)x\(plan.height), found \(width)x\(height)")
            }
            return pixels
        case .squash(let side):
            return ImageResampling.resize(pixels, width: width, height: height, channels: plan.channels, toWidth: side, toHeight: side)
        case .shorterSideCrop(let side):
            let size = ImageResampling.shorterSideSize(width: width, height: height, side: side)
            // Resize + centre crop in one: only the kept window is resampled.
            let left = ImageResampling.centreCropOrigin(size: size.width, crop: side)
            let top = ImageResampling.centreCropOrigin(size: size.height, crop: side)
            return ImageResampling.resize(pixels, width: width, height: height, channels: plan.channels,
                                          toWidth: size.width, toHeight: size.height,
                                          columns: left..<(left + side), rows: top..<(top + side))
        }
    }

    // MARK: Whole imports

    /// What an import wrote.
    public struct Summary: Sendable {
        public var count: Int
        public var height: Int
        public var width: Int
        public var channels: Int
        public var classNames: [String]
        public var skipped: [Skipped]
        public var diagnostics: Diagnostics
    }

    /// Imports into a dataset file at `output` (atomically). The block of output rows decoded at a time takes
    /// about a quarter of `memoryBudget` (it is held twice, decoded and compacted, and each thread holds one
    /// full-size decoded image beside it), and at least one row per thread and one chunk (1 MiB).
    public func write(to output: String, inputs: [String], memoryBudget: Int) throws -> Summary {
        let plan = try plan()
        let writer = try ArtifactWriter(output, kind: .dataset, inputs: inputs)
        let rowSize = plan.height * plan.width * plan.channels
        // About 1 MiB chunks, compressed on every core; the dataset grows as blocks arrive (skipped files
        // make N unknown in advance). Blocks are whole chunks, so chunks rarely wait for the next block.
        let chunkRows = max(1, min(plan.entries.count, (1 << 20) / rowSize))
        let rowsPerBlock = max(Parallel.threadCount, memoryBudget / 4 / rowSize) / chunkRows * chunkRows + chunkRows
        let images = try CompressedRowAppender(file: writer.file, name: "/images", rowShape: [plan.height, plan.width, plan.channels],
                                               chunkRows: chunkRows, level: 4)
        var labels: [Int32] = [], paths: [String] = [], skipped = plan.skipped
        let progress = ProgressMeter("import", total: plan.entries.count, unit: "images")
        var start = 0
        while start < plan.entries.count {
            let range = start..<min(plan.entries.count, start + rowsPerBlock)
            let block = try decode(plan, rows: range)
            if !block.kept.isEmpty {
                try block.pixels.withUnsafeBufferPointer { try images.append($0, rows: block.kept.count) }
            }
            for index in block.kept {
                labels.append(plan.entries[index].label)
                paths.append(plan.entries[index].path)
            }
            skipped += block.skipped
            progress.advance(by: range.count)
            start = range.upperBound
        }
        try images.finish()
        progress.finish()
        guard !labels.isEmpty else { throw MTError.badInput(directory, nil, "no image could be decoded (\(skipped.count) skipped)") }
        try writer.file.write("/labels", labels)
        if !plan.classNames.isEmpty { try writer.file.writeStrings("/class_names", plan.classNames) }
        try writer.file.writeStrings("/paths", paths)
        if !skipped.isEmpty {
            try writer.file.writeStrings("/skipped", skipped.map(\.path))
            try writer.file.writeStrings("/skipped_reasons", skipped.map(\.reason))
        }
        try writer.file.setAttribute("name", name)
        try writer.file.setAttribute("resize", resize.description)
        try writer.file.setAttribute("exif_orientation", appliesOrientation ? "applied" : "ignored")
        try writer.commit()
        return Summary(count: labels.count, height: plan.height, width: plan.width, channels: plan.channels,
                       classNames: plan.classNames, skipped: skipped, diagnostics: plan.diagnostics)
    }

    /// The whole import in memory (small folders, tests).
    public func load() throws -> ImageDataset {
        let plan = try plan()
        let block = try decode(plan, rows: 0..<plan.entries.count)
        return ImageDataset(images: block.pixels, count: block.kept.count, height: plan.height, width: plan.width,
                            channels: plan.channels, labels: block.kept.map { plan.entries[$0].label },
                            classNames: plan.classNames, name: name, paths: block.kept.map { plan.entries[$0].path })
    }
}
