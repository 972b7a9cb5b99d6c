import ArgumentParser

@main
struct Loopviz: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loopviz",
        abstract: "Watch a real single-thread event loop schedule cooperative tasks, live in the terminal.",
        discussion: """
            Each scenario is a classic asyncio program run on loopviz's own event loop (real Swift \
            async code on one thread). In a terminal it opens live swimlanes, one per task; in a \
            pipe or with --plain it prints the program's output and then the lanes as text.
            """,
        version: LoopvizVersion.current,
        subcommands: [
            CountCommand.self, EventCommand.self, LockCommand.self, SemaphoreCommand.self, QueueCommand.self,
            TimeoutCommand.self, BlockingCommand.self, EchoCommand.self, PythonCommand.self, AttachCommand.self, ReplayCommand.self, ExportCommand.self, BenchCommand.self,
        ]
    )
}

/// What `loopviz --version` prints.
enum LoopvizVersion {
    static let current = "loopviz 0.4.0 (streams and I/O on the loop)"
}
