// Command opa is a test-only stand-in for the official OPA language plugin,
// pulumi-language-opa 1.1.3 from pulumi/pulumi-policy-opa, which is not
// served to these machines.
//
// How the real one is found and run (Pulumi CLI v3.274.1): a pack with
// `runtime: opa` is run by the language plugin `opa`, which the CLI pins at
// 1.1.3 (pkg/v3 util/plugin.go, knownLanguageRuntimes) and installs into
// the plugin cache on first use (pkg/v3 workspace/plugin.go,
// EnsureLanguageInstalled); the CLI then asks that runtime to RunPlugin the
// pack, with the engine's address, and talks to the analyzer it serves
// (pkg/v3 resource/plugin/analyzer_plugin.go, NewPolicyAnalyzer).
//
// The engine tests install this binary where the CLI installs the real one,
// $PULUMI_HOME/plugins/language-opa-v1.1.3/pulumi-language-opa, never on
// the PATH, so that the CLI's own lookup (sdk workspace/plugins.go,
// GetPluginPath: the PATH, then the cache) is what finds it.
//
// Started by the CLI, it is the language runtime (runtime.go); its
// RunPlugin starts this same binary again with analyzerArg, which serves
// the pack with this repository's own evaluator (analyzer.go: OPA with the
// v0 parser, inputs shaped as the analyzer shapes them). So what the engine
// tests prove is that the resources the real engine hands an analyzer,
// unknown values of a preview included, pass the pack; not the official
// plugin's conversion of them (policies/input.go says what that is).
package main

import "os"

// analyzerArg, as the first argument, makes the binary serve the analyzer
// instead of the language runtime.
const analyzerArg = "--ci-infra-serve-analyzer"

func main() {
	if len(os.Args) > 1 && os.Args[1] == analyzerArg {
		serveAnalyzer()
		return
	}
	serveRuntime()
}
