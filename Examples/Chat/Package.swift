// swift-tools-version: 6.1
// A chat room on loopviz's event loop, shown live by the LoopViz library.
import PackageDescription

let package = Package(
    name: "Chat",
    platforms: [.macOS(.v15)],
    dependencies: [
        // loopviz itself, by path: this example lives in its repository.
        .package(name: "loopviz", path: "../.."),
    ],
    targets: [
        .executableTarget(
            name: "Chat",
            dependencies: [
                .product(name: "LoopViz", package: "loopviz"),
                .product(name: "Loop", package: "loopviz"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
