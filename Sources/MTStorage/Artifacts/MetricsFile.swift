import MTCore

extension MetricsRun {

}


/// The `metrics` artifact: one group per evaluated run under `/runs/NAME` (root attribute `runs` lists
/// them in order). A group has attributes `source`, `kind`, `scalars` (the names of its scalar
/// attributes, in order) and one float64 attribute per scalar; datasets `confusion` int64 [C,C],
/// `class_names` string [C], `per_class/NAME` float64 [C] and `curves/NAME` float32 [n].
public enum MetricsFile {
    public static func write(_ runs: [MetricsRun], to path: String, inputs: [String]) throws {
        let writer = try ArtifactWriter(path, kind: .metrics, inputs: inputs)
        let file = writer.file
        try file.setAttribute("runs", .strings(runs.map(\.name)))
        for run in runs {
            let group = "/runs/\(run.name)"
            try file.createGroup(group)
            try file.setAttribute("source", run.source, on: group)
            try file.setAttribute("kind", run.kind, on: group)
            try file.setAttribute("scalars", .strings(run.scalars.map(\.name)), on: group)
            for scalar in run.scalars { try file.setAttribute(scalar.name, .double(scalar.value), on: group) }
            try file.write("\(group)/confusion", run.confusion.map { Int64($0) }, shape: [run.classCount, run.classCount])
            try file.writeStrings("\(group)/class_names", run.classNames)
            for series in run.perClass { try file.write("\(group)/per_class/\(series.name)", series.values) }
            for series in run.curves { try file.write("\(group)/curves/\(series.name)", series.values) }
        }
        try writer.commit()
    }

    public static func read(_ path: String) throws -> [MetricsRun] {
        let reader = try ArtifactReader(path, expecting: .metrics)
        let file = reader.file
        let names: [String]
        switch file.attribute("runs") {
        case .strings(let list)?: names = list
        case .string(let one)?: names = [one]
        default: throw MTError.badInput(path, nil, "expected attribute runs (strings), found none")
        }
        return try names.map { try readRun(reader, name: $0) }
    }

    private static func readRun(_ reader: ArtifactReader, name: String) throws -> MetricsRun {
        let file = reader.file, group = "/runs/\(name)"
        guard file.isGroup(group) else { throw MTError.badInput(reader.path, group, "expected a run group, found none") }
        reader.dimensions = [:]
        let confusion = try reader.read("\(group)/confusion", as: Int64.self, shape: ["C", "C"])
        let classNames = try file.readStrings("\(group)/class_names")
        let scalarNames: [String]
        switch file.attribute("scalars", on: group) {
        case .strings(let names)?: scalarNames = names
        case .string(let name)?: scalarNames = [name]
        default: scalarNames = []
        }
        let perClass = try series(reader, "\(group)/per_class", as: Double.self)
        let curves = try series(reader, "\(group)/curves", as: Float.self)
        return MetricsRun(name: name, source: file.stringAttribute("source", on: group) ?? "",
                          kind: file.stringAttribute("kind", on: group) ?? "",
                          scalars: scalarNames.map { .init($0, file.doubleAttribute($0, on: group) ?? .nan) },
                          classNames: classNames, confusion: confusion.values.map { Int($0) },
                          perClass: perClass, curves: curves)
    }

    private static func series<T: H5Element & Equatable>(_ reader: ArtifactReader, _ group: String, as _: T.Type) throws -> [MetricsRun.Series<T>] {
        guard reader.file.isGroup(group) else { return [] }
        return try reader.file.members(of: group).map { member in
            .init(member, try reader.file.read("\(group)/\(member)", as: T.self).values)
        }
    }
}
