// Package scripts owns the shell scripts that run on the agents or on
// operators' machines. The ones the program uploads are embedded here, so
// the uploaded object is always the reviewed file in this repository (the
// seed's bootstrap script "is likely to diverge from the source of truth";
// here it cannot).
package scripts

import _ "embed"

// Bootstrap is bootstrap.sh, uploaded to the config bucket and run as root by
// every agent instance at boot.
//
//go:embed bootstrap.sh
var Bootstrap string
