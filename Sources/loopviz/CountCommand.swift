import ArgumentParser
import Scenarios

struct CountCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: CountScenario.name,
        abstract: "count.py: \(CountScenario.summary)."
    )

    @Option(parsing: .unconditional, help: "How many count tasks to gather.")
    var tasks = 3

    @Option(parsing: .unconditional, help: "How long each count task sleeps, in seconds.")
    var delay = 1.0

    @OptionGroup var runArguments: RunArguments

    func validate() throws {
        try Check.count(tasks, "--tasks")
        try Check.delay(delay)
    }

    func run() throws {
        try runArguments.run(CountScenario(tasks: tasks, delay: delay))
    }
}
