#if canImport(Glibc)
import Glibc
#endif
import Visualizer

extension SessionOutcome {
    /// Prints what a closed screen left (the program's output on stdout, the messages on
    /// stderr) and returns the exit status: 0, 1 when it failed, 128 + n after signal n, as a
    /// shell reports it. After a hang-up, messages go only to a stderr that is not the terminal
    /// that went away (writing there would only get EIO).
    public func deliver() -> Int32 {
        if !output.isEmpty { StandardStream.output.write(output) }
        if !(hungUp && TerminalCheck.hasHungUp(STDERR_FILENO)) {
            for message in messages { StandardStream.error.write(message + "\n") }
        }
        return status
    }

    /// The exit status for this ending.
    public var status: Int32 {
        switch ending {
        case .finished: 0
        case .failed: 1
        case .signal(let number): 128 + number
        }
    }
}
