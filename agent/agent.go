// Package agent owns what runs on the Buildkite agents: the bootstrap
// script the instances run as root at boot, the build-safety gate (the
// secrets bucket's `env`, rendered from env.tmpl) and the hooks bootstrap
// installs. They are embedded here, so the uploaded objects are always the
// reviewed files of this repository (the seed's bootstrap script "is likely
// to diverge from the source of truth"; here it cannot).
package agent

import _ "embed"

// Bootstrap is bootstrap.sh, uploaded to the config bucket and run as root by
// every agent instance at boot.
//
//go:embed bootstrap.sh
var Bootstrap string
