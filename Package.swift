// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "loopviz",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "loopviz", targets: ["loopviz"]),
        .library(name: "Loop", targets: ["Loop"]),
        // Your own program, shown as loopviz shows its scenarios: `LoopViz.run("name") { loop in … }`.
        .library(name: "LoopViz", targets: ["LoopViz", "Loop"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        // `swift package generate-documentation --target LoopViz`: the library's DocC pages.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        // ncursesw, reached only by the Visualizer's renderer.
        // No pkgConfig: ncursesw's flags (-D_DEFAULT_SOURCE, -D_XOPEN_SOURCE=600) are prohibited in a
        // system library and warned about on every build; the modulemap links ncursesw and tinfo,
        // and the shim defines what the headers need.
        .systemLibrary(
            name: "CNcurses",
            providers: [.apt(["libncurses-dev"])]
        ),
        // epoll, eventfd and SO_PEERCRED, which Glibc's Swift module does not export (headers only).
        .systemLibrary(name: "CLoopSystem"),
        // The trace: fixed-size records, the interned name table and the lock-free ring. Plain values.
        .target(name: "Trace"),
        // The single-thread event loop (a TaskExecutor) and its asyncio-style primitives.
        .target(
            name: "Loop",
            dependencies: [
                "Trace", "CLoopSystem",
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "HeapModule", package: "swift-collections"),
            ]
        ),
        // The programs loopviz ships (count, event, ...), written against Loop.
        .target(name: "Scenarios", dependencies: ["Loop"]),
        // Trace → lane model → layout grid → renderers (plain text and ncurses), and the live session.
        .target(name: "Visualizer", dependencies: ["Trace", "Loop", "CNcurses", "CLoopSystem"]),
        // The library a user's own program links: runs its main on a fresh loop and shows it.
        .target(name: "LoopViz", dependencies: ["Loop", "Visualizer", "Trace", "CLoopSystem"]),
        // `loopviz python SCRIPT.py`: CPython asyncio programs, through an instrumentation module
        // (a resource) that streams their loop's scheduling in the attach stream format.
        .target(
            name: "PythonBridge",
            dependencies: ["Visualizer", "Trace", "LoopViz"],
            resources: [.copy("Resources/loopviz_trace")]
        ),
        // `loopviz bench`: the workloads that measure the loop, the ring and the screen. CLoopSystem:
        // the echo bench's epoll client and CPU pinning.
        .target(name: "Benchmarks", dependencies: ["Loop", "Trace", "Visualizer", "CLoopSystem"]),
        // The command: argument parsing only.
        .executableTarget(
            name: "loopviz",
            dependencies: [
                "Visualizer", "Scenarios", "Loop", "Benchmarks", "LoopViz", "PythonBridge",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "TraceTests", dependencies: ["Trace"]),
        .testTarget(name: "LoopTests", dependencies: ["Loop", "Trace", "Scenarios"]),
        .testTarget(name: "VisualizerTests", dependencies: ["Visualizer", "Trace", "Loop", "Scenarios", "LoopViz"]),
        .testTarget(name: "LoopVizTests", dependencies: ["LoopViz", "Visualizer", "Loop"]),
        // The bench's own machinery (the echo client, server processes), not its figures.
        .testTarget(name: "BenchmarksTests", dependencies: ["Benchmarks"]),
        // Drives the built `loopviz` binary: as a process, and in tmux for the live screen.
        .testTarget(name: "EndToEndTests", dependencies: ["loopviz"]),
    ],
    swiftLanguageModes: [.v6]
)
