import Foundation
import Testing
@testable import Visualizer

/// What the screen changes process-wide while it is up — stdout and stderr into a pipe, the
/// signal dispositions (its own for INT, TERM and HUP; ncurses' for WINCH and TSTP) and the
/// signal mask — is exactly what it was once it closes: a program embedding the library goes on
/// after `LoopViz.run(_:options:)` returns. Done on the pieces the screen driver uses (the
/// driver itself needs a terminal to read keys from), in this process: fds 1 and 2 are the
/// pipe for a moment.
@Suite("Process state put back", .serialized)
struct ProcessStateTests {
    struct Descriptor: Equatable {
        var device: UInt64, inode: UInt64, mode: UInt32, flags: Int32
    }

    static func descriptor(_ fd: Int32) -> Descriptor {
        var status = stat()
        _ = fstat(fd, &status)
        return Descriptor(device: UInt64(status.st_dev), inode: UInt64(status.st_ino), mode: status.st_mode, flags: fcntl(fd, F_GETFL))
    }

    struct Disposition: Equatable {
        var handler: Int, flags: Int32
    }

    static func disposition(_ number: Int32) -> Disposition {
        var action = sigaction()
        sigaction(number, nil, &action)
        // SA_RESTORER (0x04000000) is glibc's own: any disposition set through glibc's sigaction
        // carries it, a default one never set does not. It changes nothing about the disposition.
        return Disposition(handler: unsafeBitCast(action.__sigaction_handler.sa_handler, to: Int.self),
                           flags: action.sa_flags & ~0x0400_0000)
    }

    static func mask() -> [Bool] {
        var current = sigset_t()
        pthread_sigmask(SIG_SETMASK, nil, &current)
        return (1..<32).map { sigismember(&current, Int32($0)) == 1 }
    }

    static func install(_ number: Int32, _ handler: @escaping @convention(c) (Int32) -> Void) -> sigaction {
        var action = sigaction(), previous = sigaction()
        action.__sigaction_handler.sa_handler = handler
        sigemptyset(&action.sa_mask)
        sigaction(number, &action, &previous)
        return previous
    }

    @Test func theCaptureAndTheSignalWatchPutBackTheDescriptorsTheDispositionsAndTheMask() throws {
        let signals = [SIGINT, SIGTERM, SIGHUP, SIGWINCH, SIGTSTP]
        // A handler of the program's own (an embedding program may have one): it must survive.
        let programsOwn = Self.install(SIGWINCH) { _ in }
        defer { var back = programsOwn; sigaction(SIGWINCH, &back, nil) }
        let descriptors = [STDOUT_FILENO, STDERR_FILENO].map(Self.descriptor)
        let dispositions = signals.map(Self.disposition)
        let mask = Self.mask()

        // As ScreenDriver.run does it: the signals first, then the capture, then ncurses.
        let watch = SignalWatch()
        let capture = OutputCapture()
        let terminal = try #require(capture.begin())
        #expect(Self.descriptor(STDOUT_FILENO) != descriptors[0])  // the pipe, while the screen is up
        #expect(Self.disposition(SIGINT) != dispositions[0])
        // ncurses puts handlers of its own on WINCH and TSTP while the screen is up.
        _ = Self.install(SIGWINCH) { _ in }
        _ = Self.install(SIGTSTP) { _ in }
        _ = "stray output\n".withCString { write(STDOUT_FILENO, $0, strlen($0)) }
        let leftover = capture.end()
        watch.restore()
        close(terminal)

        #expect(leftover.contains("stray output"))  // handed back to the caller to print
        #expect([STDOUT_FILENO, STDERR_FILENO].map(Self.descriptor) == descriptors)
        #expect(signals.map(Self.disposition) == dispositions)
        #expect(Self.mask() == mask)
    }
}
