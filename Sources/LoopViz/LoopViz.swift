import Foundation
import Loop
import Visualizer

/// Shows your own program's event loop the way `loopviz count` is shown: the live screen in a
/// terminal (step through it, step back, see why each task runs), plain text in a pipe.
///
/// Wrap your async main in ``run(_:arguments:environment:_:)``; it gets a fresh `EventLoop`
/// whose primitives (tasks, `sleep`, `gather`, `Event`, `Lock`, `Semaphore`, `Queue`,
/// `waitFor`, streams) are what the screen shows:
///
/// ```swift
/// import Loop
/// import LoopViz
///
/// @main struct Demo {
///     static func main() {
///         LoopViz.run("demo") { loop in
///             let worker = loop.spawn("worker") { try await loop.sleep(0.5) }
///             try await worker.value
///             loop.print("done")
///         }
///     }
/// }
/// ```
///
/// To watch a program that runs elsewhere (a service, a long job), serve its loop instead:
/// `LOOPVIZ_SOCKET=/run/user/1000/demo.sock ./demo` (or `--serve PATH`) runs it as usual and
/// `loopviz attach /run/user/1000/demo.sock` shows it live, steps it, detaches and re-attaches.
///
/// Options come from the program's own arguments, or from the `LOOPVIZ` environment variable
/// (`LOOPVIZ="--plain --record 'my run.lvt'" ./demo`: split on whitespace, with simple '…' and
/// "…" quoting), the same as `loopviz count`'s: `--plain`, `--no-lanes`, `--loop-state`,
/// `--step`, `--clock`, `--speed`, `--slow-ms`, `--record`, `--schedule`, `--chrome-trace`,
/// `--width`, `--tree`, `--history`, `--serve`. Arguments loopviz does not know are left for the
/// program in ``Invocation/programArguments``.
public enum LoopViz {
    /// What the command line asked of loopviz, and what it left for the program.
    public struct Invocation: Sendable {
        public var options: RunOptions
        /// The arguments loopviz did not take (the program's own), without the executable's name.
        public var programArguments: [String]
    }

    /// Runs `main` on a fresh loop, shows it, and exits the process with the run's status: 0,
    /// 1 when the program failed (its error on stderr, after the terminal was restored), 64 for
    /// bad loopviz options, 128 + n after signal n. Never returns.
    /// - Parameters:
    ///   - name: what the header, recordings and messages call the program.
    ///   - arguments: the command line (default: the process's).
    ///   - environment: where `LOOPVIZ` is read (default: the process's).
    ///   - main: your program's async main, run on the loop it is given.
    public static func run(
        _ name: String, arguments: [String] = CommandLine.arguments,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        _ main: @escaping @Sendable (EventLoop) async throws -> Void
    ) -> Never {
        let invocation: Invocation
        do {
            invocation = try parse(arguments: Array(arguments.dropFirst()), environment: environment)
        } catch {
            // write(2), not FileHandle: a terminal that is gone must not turn exit 64 into a trap.
            StandardStream.error.write("\(name): \(error)\n\(Options.usage)\n")
            exit(64)
        }
        let program = LoopProgram(name: name, main: main)
        if let path = invocation.options.servePath ?? environment["LOOPVIZ_SOCKET"] {
            exit(serve(program, options: invocation.options, path: path))
        }
        exit(run(program, options: invocation.options))
    }

    /// Runs `program` with `options` and returns the exit status (for callers that decide how
    /// to exit themselves).
    public static func run(_ program: LoopProgram, options: RunOptions) -> Int32 {
        do {
            return try Launcher.run(ProgramRun(program: program, options: options))
        } catch {
            StandardStream.error.write("\(program.name): \(error)\n")
            return 1
        }
    }

    /// Splits the command line: loopviz's options (from `LOOPVIZ` first, then the arguments)
    /// and the program's own arguments.
    /// - Throws: ``OptionError`` naming the option and what is wrong with it.
    public static func parse(arguments: [String], environment: [String: String] = [:]) throws(OptionError) -> Invocation {
        var options = RunOptions()
        let fromEnvironment = try environment["LOOPVIZ"].map { (text) throws(OptionError) in try Options.split(text) } ?? []
        _ = try Options.apply(fromEnvironment, to: &options, keepUnknown: false)
        let rest = try Options.apply(arguments, to: &options, keepUnknown: true)
        return Invocation(options: options, programArguments: rest)
    }
}
