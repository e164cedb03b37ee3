/// The toolkit's version, written into every artifact as `mt_version`.
public let mtVersion = "0.1.0"
