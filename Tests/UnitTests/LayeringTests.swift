import Foundation
import Testing
import TestSupport

/// The layering rule of docs/ARCHITECTURE.md, checked from the sources: each library target imports only
/// the targets below it, and only storage and the command layer touch files, only the command layer
/// prints or parses arguments. (`make build` enforces the imports as well, through SwiftPM's explicit
/// target dependency check.)
@Suite struct LayeringTests {
    /// What each target may import besides the standard library, Foundation and Dispatch.
    static let allowed: [String: Set<String>] = [
        "MTCore": ["CBLAS"],
        "MTStorage": ["MTCore", "CHDF5", "CZlib", "CPNG", "CJPEG"],
        "MTAlgorithms": ["MTCore", "CFaiss"],
        "MTNetwork": ["MTCore", "MTAlgorithms"],
        "MTCommand": ["MTCore", "MTStorage", "MTAlgorithms", "MTNetwork", "CBLAS", "CMalloc", "ArgumentParser"],
        "mt-features": ["MTCommand"], "mt-knn": ["MTCommand"], "mt-ncut": ["MTCommand"],
        "mt-select": ["MTCommand"], "mt-train": ["MTCommand"], "mt-eval": ["MTCommand"],
    ]
    static let system: Set<String> = ["Foundation", "Dispatch", "Glibc", "Darwin"]

    /// Swift files of a target and their text.
    static func sources(_ target: String) -> [(path: String, text: String)] {
        let root = TestSupport.repositoryRoot + "/Sources/" + target
        guard let walker = FileManager.default.enumerator(atPath: root) else { return [] }
        return walker.compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") }.sorted().compactMap { relative in
            (try? String(contentsOfFile: root + "/" + relative, encoding: .utf8)).map { ("\(target)/\(relative)", $0) }
        }
    }

    static func imports(_ text: String) -> [String] {
        text.split(separator: "\n").compactMap { line in
            let words = line.split(separator: " ")
            guard let index = words.firstIndex(of: "import"), words.prefix(upTo: index).allSatisfy({ $0.hasPrefix("@") }),
                  index + 1 < words.count else { return nil }
            return String(words[index + 1])
        }
    }

    @Test(arguments: allowed.keys.sorted())
    func importsOnlyTheLayersBelow(_ target: String) {
        let files = Self.sources(target)
        #expect(!files.isEmpty, "no sources found for \(target)")
        for file in files {
            for module in Self.imports(file.text) where !Self.system.contains(module) {
                #expect(Self.allowed[target]!.contains(module), "\(file.path) imports \(module), which \(target) may not use")
            }
        }
    }

    /// Code in the core, algorithm and network layers neither prints nor touches the file system.
    @Test(arguments: ["MTCore", "MTAlgorithms", "MTNetwork"])
    func lowerLayersDoNoInputOrOutput(_ target: String) {
        let forbidden = ["print(", "FileHandle", "FileManager", "fopen(", "isatty(", "exit(", "CommandLine", "H5File"]
        for file in Self.sources(target) {
            let code = file.text.split(separator: "\n").filter { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("//") }
            for word in forbidden {
                let hits = code.filter { $0.contains(word) }
                #expect(hits.isEmpty, "\(file.path) uses \(word): \(hits.first ?? "")")
            }
        }
    }

    /// Each tool's main.swift is one call into the command layer.
    @Test func toolsAreThin() {
        for tool in Self.allowed.keys where tool.hasPrefix("mt-") {
            let files = Self.sources(tool)
            #expect(files.map(\.path) == ["\(tool)/main.swift"])
            let lines = files.first?.text.split(separator: "\n").filter { !$0.isEmpty } ?? []
            #expect(lines.count == 2 && lines[1].hasPrefix("ToolMain.run("), "\(tool)/main.swift: \(lines)")
        }
    }
}
