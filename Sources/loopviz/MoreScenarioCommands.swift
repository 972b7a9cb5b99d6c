import ArgumentParser
import Scenarios

struct LockCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: LockScenario.name, abstract: "lock.py: \(LockScenario.summary).")
    @Option(parsing: .unconditional, help: "How many workers contend for the lock.") var workers = 3
    @Option(parsing: .unconditional, help: "How long each worker holds the lock, in seconds.") var hold = 0.5
    @OptionGroup var runArguments: RunArguments

    func validate() throws {
        try Check.count(workers, "--workers")
        try Check.delay(hold, "--hold")
    }

    func run() throws { try runArguments.run(LockScenario(workers: workers, hold: hold)) }
}

struct QueueCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: QueueScenario.name, abstract: "queue.py: \(QueueScenario.summary).")
    @Option(parsing: .unconditional, help: "How many items the producer puts.") var items = 5
    @Option(parsing: .unconditional, help: "The queue's capacity.") var maxsize = 2
    @Option(parsing: .unconditional, help: "How long a consumer works on an item, in seconds.") var delay = 0.3
    @OptionGroup var runArguments: RunArguments

    func validate() throws {
        try Check.count(items, "--items", max: 10_000)
        try Check.count(maxsize, "--maxsize", max: 10_000)
        try Check.delay(delay)
    }

    func run() throws { try runArguments.run(QueueScenario(items: items, maxsize: maxsize, delay: delay)) }
}

struct TimeoutCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: TimeoutScenario.name, abstract: "timeout.py: \(TimeoutScenario.summary).")
    @Option(parsing: .unconditional, help: "wait_for's timeout, in seconds.") var timeout = 0.5
    @Option(parsing: .unconditional, help: "How long the slow task would take, in seconds.") var work = 2.0
    @OptionGroup var runArguments: RunArguments

    func validate() throws {
        try Check.delay(timeout, "--timeout")
        try Check.delay(work, "--work")
    }

    func run() throws { try runArguments.run(TimeoutScenario(timeout: timeout, work: work)) }
}

struct BlockingCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: BlockingScenario.name, abstract: "blocking.py: \(BlockingScenario.summary).")
    @Option(parsing: .unconditional, help: "How long the blocking call holds the loop, in seconds.") var block = 0.5
    @Option(parsing: .unconditional, help: "How many ticks each ticker prints.") var ticks = 4
    @OptionGroup var runArguments: RunArguments

    func validate() throws {
        try Check.delay(block, "--block")
        try Check.count(ticks, "--ticks")
    }

    func run() throws { try runArguments.run(BlockingScenario(block: block, ticks: ticks)) }
}

struct SemaphoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: SemaphoreScenario.name, abstract: "semaphore.py: \(SemaphoreScenario.summary).")
    @Option(parsing: .unconditional, help: "How many downloads.") var downloads = 5
    @Option(parsing: .unconditional, help: "How many may run at once.") var limit = 2
    @Option(parsing: .unconditional, help: "How long a download takes, in seconds.") var delay = 0.3
    @OptionGroup var runArguments: RunArguments

    func validate() throws {
        try Check.count(downloads, "--downloads")
        try Check.count(limit, "--limit")
        try Check.delay(delay)
    }

    func run() throws { try runArguments.run(SemaphoreScenario(downloads: downloads, limit: limit, delay: delay)) }
}

struct EchoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: EchoScenario.name, abstract: "echo.py: \(EchoScenario.summary).",
        discussion: "The server binds 127.0.0.1 on a free port; nothing outside the machine is contacted.")
    @Option(parsing: .unconditional, help: "How many clients connect (a, b, c, ...).") var clients = 3
    @Option(parsing: .unconditional, help: "How many lines each client sends.") var messages = 2
    @Option(parsing: .unconditional, help: "The first client's pause before each line, in seconds; client k waits delay × (1, 1.5, 2.5, 3.5, ...).")
    var delay = 0.1
    @OptionGroup var runArguments: RunArguments

    func validate() throws {
        // Each client holds one socket and the server one more: stay well under the fd limit.
        try Check.count(clients, "--clients", max: 200)
        try Check.count(messages, "--messages", max: 10_000)
        try Check.delay(delay)
    }

    func run() throws { try runArguments.run(EchoScenario(clients: clients, messages: messages, delay: delay)) }
}
