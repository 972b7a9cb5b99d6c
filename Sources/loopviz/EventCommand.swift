import ArgumentParser
import Scenarios

struct EventCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: EventScenario.name,
        abstract: "event.py: \(EventScenario.summary)."
    )

    @Option(parsing: .unconditional, help: "How many coroN tasks wait on the event.")
    var waiters = 2

    @Option(parsing: .unconditional, help: "When the set_event callback runs, in seconds.")
    var delay = 1.0

    @OptionGroup var runArguments: RunArguments

    func validate() throws {
        try Check.count(waiters, "--waiters")
        try Check.delay(delay)
    }

    func run() throws {
        try runArguments.run(EventScenario(waiters: waiters, delay: delay))
    }
}
