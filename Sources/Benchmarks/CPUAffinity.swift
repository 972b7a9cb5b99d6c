#if canImport(Glibc)
import Glibc
#endif
import CLoopSystem

/// Which cores a thread may run on (`sched_setaffinity`, through the CLoopSystem shim: glibc
/// hides it from Swift). The echo bench pins its client to one core and each server to another,
/// so that neither steals the other's core and the server's core is the one measured.
enum CPUAffinity {
    /// 1,024 CPUs, as glibc's `cpu_set_t`.
    private static let words = 16

    /// The cores the calling thread may run on now, in order.
    static func current() -> [Int] {
        var mask = [UInt](repeating: 0, count: words)
        let result = mask.withUnsafeMutableBufferPointer { loopviz_sched_getaffinity(0, $0.count * MemoryLayout<UInt>.size, $0.baseAddress) }
        guard result > 0 else { return [] }
        return (0..<(words * UInt.bitWidth)).filter { mask[$0 / UInt.bitWidth] & (1 << UInt($0 % UInt.bitWidth)) != 0 }
    }

    /// Lets the calling thread (and the threads and processes it creates from now on) run only
    /// on `cpus`. False when the kernel refused (a core outside the container's set, say).
    @discardableResult
    static func set(_ cpus: [Int]) -> Bool {
        var mask = [UInt](repeating: 0, count: words)
        for cpu in cpus where (0..<(words * UInt.bitWidth)).contains(cpu) {
            mask[cpu / UInt.bitWidth] |= 1 << UInt(cpu % UInt.bitWidth)
        }
        return mask.withUnsafeBufferPointer { loopviz_sched_setaffinity(0, $0.count * MemoryLayout<UInt>.size, $0.baseAddress) } == 0
    }

    /// The CPU seconds process `pid` has used so far, all of its threads together, from each
    /// thread's `/proc/PID/task/TID/schedstat` (nanoseconds; `/proc/PID/stat` counts 10 ms
    /// ticks, too coarse for a round of a fraction of a second). Nil when it cannot be read.
    static func processCPUSeconds(_ pid: pid_t) -> Double? {
        guard let directory = opendir("/proc/\(pid)/task") else { return nil }
        defer { closedir(directory) }
        var nanoseconds = 0.0
        var found = false
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard let tid = Int(name), let text = readSmallFile("/proc/\(pid)/task/\(tid)/schedstat"),
                  let first = text.split(separator: " ").first, let value = Double(first) else { continue }
            nanoseconds += value
            found = true
        }
        return found ? nanoseconds / 1e9 : nil
    }

    /// A file of /proc, read with plain system calls (no Foundation on the client's hot path).
    private static func readSmallFile(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 256)
        let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard count > 0 else { return nil }
        return String(decoding: buffer[..<count], as: UTF8.self)
    }
}
