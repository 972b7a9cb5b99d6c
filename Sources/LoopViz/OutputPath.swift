import Foundation

/// A file a run will write when it ends (`--schedule`, `--chrome-trace`) or while it runs
/// (`--record`), checked before the run starts so that a bad path costs nothing.
public enum OutputPath {
    /// Why `path` cannot be written, or nil when it can.
    ///
    /// The check opens the path for writing, creating it if missing, rather than asking
    /// `access()`: root passes `access(W_OK)` on any folder, even one where no file can be
    /// created (`/proc`), and a read-only mount or a full quota only shows when a file is made.
    /// A file the check created is removed again (the run creates it anew, and a run refused
    /// for another option then leaves nothing behind); an existing file is not truncated.
    public static func problem(with path: String) -> String? {
        guard !path.isEmpty else { return "needs a file name" }
        var isFolder: ObjCBool = false
        let existed = FileManager.default.fileExists(atPath: path, isDirectory: &isFolder)
        if existed && isFolder.boolValue { return "it is a folder" }
        if !existed {
            let folder = (path as NSString).deletingLastPathComponent
            let parent = folder.isEmpty ? "." : folder
            guard FileManager.default.fileExists(atPath: parent, isDirectory: &isFolder), isFolder.boolValue else {
                return "no folder \(parent)"
            }
        }
        // O_NONBLOCK: a FIFO with no reader must fail here, not hang the check.
        let fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NONBLOCK, 0o644)
        guard fd >= 0 else {
            let reason = String(cString: strerror(errno))
            return existed ? reason : "no file can be created there (\(reason))"
        }
        close(fd)
        if !existed { unlink(path) }
        return nil
    }
}
