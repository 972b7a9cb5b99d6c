import Foundation

/// The instrumentation module (the `loopviz_trace` package, a resource of this target) and the
/// few lines that start it: written to a private temporary folder for one run, removed after it.
struct PythonModule {
    /// The resource: a Python package folder.
    static let packageName = "loopviz_trace"
    /// The oldest Python the module is written for (`asyncio.Runner`-era internals are not needed,
    /// but 3.8's `_set_running_loop` and C Task attributes are).
    static let minimumVersion = (3, 8)

    /// The private folder holding the module for this run.
    let folder: String

    /// Writes the module into a fresh folder only this user can read (mkdtemp makes it 0700).
    init() throws(PythonRunError) {
        let files = try Self.sources()
        var template = Array((NSTemporaryDirectory() + "loopviz-python-XXXXXX").utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw .cannotPrepare("cannot make a temporary folder: \(String(cString: strerror(errno)))")
        }
        folder = String(cString: made)
        do {
            let package = folder + "/" + Self.packageName
            try FileManager.default.createDirectory(atPath: package, withIntermediateDirectories: false)
            for (name, text) in files {
                try text.write(toFile: package + "/" + name, atomically: false, encoding: .utf8)
            }
        } catch {
            try? FileManager.default.removeItem(atPath: folder)
            throw .cannotPrepare("cannot write the Python module to \(folder): \(error.localizedDescription)")
        }
    }

    /// Removes the folder.
    func remove() {
        try? FileManager.default.removeItem(atPath: folder)
    }

    /// `python3 -c` this: refuse an old Python in one line, then hand over to the module. Kept
    /// to syntax every Python 3 parses, so that the version check itself always runs.
    var bootstrap: String {
        let (major, minor) = Self.minimumVersion
        return """
            import sys
            if sys.version_info < (\(major), \(minor)):
                sys.exit("loopviz python: needs Python \(major).\(minor) or newer; this is Python " + sys.version.split()[0])
            sys.path.insert(0, \(Self.pythonString(folder)))
            import loopviz_trace
            sys.path.pop(0)
            sys.exit(loopviz_trace.main())
            """
    }

    /// The package's files (name and text), from the resource bundle next to the executable
    /// (SwiftPM's layout), found without `Bundle.module`, which traps when the bundle is missing.
    static func sources() throws(PythonRunError) -> [(String, String)] {
        let bundleName = "loopviz_PythonBridge.resources"
        var candidates: [String] = []
        if let executable = Bundle.main.executableURL?.resolvingSymlinksInPath() {
            candidates.append(executable.deletingLastPathComponent().appendingPathComponent(bundleName).path)
        }
        candidates.append(Bundle.main.bundlePath + "/" + bundleName)
        // Tests run inside an .xctest bundle in the same build folder as the executable.
        for bundle in Bundle.allBundles {
            candidates.append(bundle.bundleURL.deletingLastPathComponent().appendingPathComponent(bundleName).path)
        }
        for folder in candidates {
            let package = folder + "/" + packageName
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: package), names.contains("__init__.py") else { continue }
            var files: [(String, String)] = []
            for name in names.sorted() where name.hasSuffix(".py") {
                guard let text = try? String(contentsOfFile: package + "/" + name, encoding: .utf8) else {
                    throw .cannotPrepare("cannot read the Python module \(package)/\(name)")
                }
                files.append((name, text))
            }
            return files
        }
        throw .cannotPrepare("the Python module \(packageName) is missing (looked in \(candidates.first ?? bundleName)); "
            + "keep \(bundleName) next to the loopviz executable")
    }

    /// `text` as a Python string literal.
    static func pythonString(_ text: String) -> String {
        var out = "'"
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "'": out += "\\'"
            case "\n": out += "\\n"
            default:
                if scalar.value < 0x20 { out += String(format: "\\x%02x", scalar.value) } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out + "'"
    }
}

/// Why `loopviz python` could not run the program, in one line.
public enum PythonRunError: Error, CustomStringConvertible, Equatable {
    case noScript(String)
    case noPython(String)
    case cannotPrepare(String)

    public var description: String {
        switch self {
        case .noScript(let path): "no such script: \(path)"
        case .noPython(let python): "cannot run \(python): not found (install Python 3, or name one with --python PATH)"
        case .cannotPrepare(let reason): reason
        }
    }
}
